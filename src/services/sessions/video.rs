//! Meeting links: a Zoom meeting when Zoom is configured, otherwise (or
//! when Zoom fails and `[video] fallback_to_template` allows it) a link from
//! the `[video]` template with an unguessable room name.

use crate::config::VideoProvider;
use crate::crypto::random_token;
use crate::db::repos::consulting_sessions::SessionRow;
use crate::error::{AppError, AppResult};
use crate::providers::zoom::{MeetingRequest, MeetingSettings, ZoomClient};
use crate::providers::ProviderError;
use crate::state::AppState;

/// A meeting for a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// `zoom` or `template`.
    pub provider: &'static str,
    pub meeting_id: Option<String>,
    pub url: String,
    pub password: Option<String>,
}

fn zoom(state: &AppState) -> Option<&ZoomClient> {
    match state.config.video.provider {
        VideoProvider::Template => None,
        VideoProvider::Auto | VideoProvider::Zoom => state.providers.zoom.as_ref(),
    }
}

/// The template link for a session.
pub fn template_link(state: &AppState, s: &SessionRow) -> Link {
    let room = random_token(16).to_lowercase();
    let url = state
        .config
        .video
        .link_template
        .replace("{room}", &room)
        .replace("{session_id}", &s.id.to_string());
    Link {
        provider: "template",
        meeting_id: None,
        url,
        password: None,
    }
}

fn request(s: &SessionRow) -> MeetingRequest {
    MeetingRequest {
        topic: format!("Colloquy: {} and {}", s.researcher_name, s.reader_name),
        kind: 2,
        start_time: s.start.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        duration: s.duration_minutes,
        timezone: "UTC".into(),
        agenda: crate::services::mail::templates::clip(&s.topic, 1500),
        settings: MeetingSettings {
            join_before_host: false,
            waiting_room: true,
        },
    }
}

fn unavailable(e: &ProviderError) -> AppError {
    AppError::Upstream {
        code: "video_unavailable",
        message: format!("The video meeting could not be created: {e}. Try again in a moment."),
    }
}

/// A new meeting for an accepted session.
pub async fn create(state: &AppState, s: &SessionRow) -> AppResult<Link> {
    let Some(client) = zoom(state) else {
        return Ok(template_link(state, s));
    };
    match client.create_meeting(&request(s)).await {
        Ok(m) => Ok(Link {
            provider: "zoom",
            meeting_id: Some(m.id),
            url: m.join_url,
            password: m.password,
        }),
        Err(e) if state.config.video.fallback_to_template => {
            tracing::warn!(session = %s.id, error = %e, "Zoom failed; using the link template");
            Ok(template_link(state, s))
        }
        Err(e) => Err(unavailable(&e)),
    }
}

/// Moves the meeting to the session's new time. `Some(link)` replaces the
/// stored link: Zoom lost the meeting and a new one was made, or Zoom
/// failed and the template is used (the old meeting is then deleted by
/// `retire` once the move is stored).
pub async fn reschedule(state: &AppState, s: &SessionRow) -> AppResult<Option<Link>> {
    let (Some(client), Some("zoom"), Some(id)) = (
        zoom(state),
        s.meeting_provider.as_deref(),
        s.meeting_id.as_deref(),
    ) else {
        return Ok(None);
    };
    let result = match client.update_meeting(id, &request(s)).await {
        Err(ProviderError::NotFound { .. }) => {
            tracing::info!(session = %s.id, "the Zoom meeting is gone; making a new one");
            client.create_meeting(&request(s)).await.map(|m| {
                Some(Link {
                    provider: "zoom",
                    meeting_id: Some(m.id),
                    url: m.join_url,
                    password: m.password,
                })
            })
        }
        other => other.map(|()| None),
    };
    match result {
        Ok(link) => Ok(link),
        Err(e) if state.config.video.fallback_to_template => {
            tracing::warn!(session = %s.id, error = %e, "Zoom update failed; using the link template");
            Ok(Some(template_link(state, s)))
        }
        Err(e) => Err(unavailable(&e)),
    }
}

/// After a stored move that replaced the link with a template one, deletes
/// the Zoom meeting that no longer belongs to the session.
pub async fn retire(state: &AppState, old: &SessionRow, new: &Link) {
    if new.provider == "template" {
        delete(state, old).await;
    }
}

/// Deletes a Zoom meeting, if the link is one; a failure is logged (the
/// change that made the meeting unneeded stands).
async fn delete_zoom(state: &AppState, provider: Option<&str>, meeting_id: Option<&str>) {
    let (Some(client), Some("zoom"), Some(id)) =
        (state.providers.zoom.as_ref(), provider, meeting_id)
    else {
        return;
    };
    if let Err(e) = client.delete_meeting(id).await {
        tracing::warn!(meeting = id, error = %e, "could not delete the Zoom meeting");
    }
}

/// Deletes a meeting made for an accept that did not commit.
pub async fn discard(state: &AppState, link: &Link) {
    delete_zoom(state, Some(link.provider), link.meeting_id.as_deref()).await;
}

/// Deletes the Zoom meeting of a cancelled session (after the cancellation
/// is stored).
pub async fn delete(state: &AppState, s: &SessionRow) {
    delete_zoom(
        state,
        s.meeting_provider.as_deref(),
        s.meeting_id.as_deref(),
    )
    .await;
}
