//! `[sessions]`, `[video]` and `[zoom]`: the booking lifecycle and where
//! meeting links come from.

use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsConfig {
    /// Reminders go out this many minutes before an accepted session
    /// (each once). Empty sends none.
    pub reminder_minutes: Vec<i64>,
    /// An accepted session is marked completed this many hours after its
    /// end; until then either party may report a no-show.
    pub completion_grace_hours: i64,
    /// Defaults for a researcher who has not saved settings yet.
    pub default_timezone: String,
    pub default_durations: Vec<i64>,
    pub default_min_notice_hours: i64,
    pub default_buffer_minutes: i64,
    pub default_max_per_day: i64,
    pub default_horizon_days: i64,
    pub default_request_ttl_hours: i64,
    pub default_cancel_window_hours: i64,
    /// Currency of new researchers' prices (ISO 4217).
    pub default_currency: String,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            reminder_minutes: vec![1440, 60],
            completion_grace_hours: 24,
            default_timezone: "UTC".into(),
            default_durations: vec![30, 60],
            default_min_notice_hours: 24,
            default_buffer_minutes: 15,
            default_max_per_day: 4,
            default_horizon_days: 60,
            default_request_ttl_hours: 48,
            default_cancel_window_hours: 24,
            default_currency: "EUR".into(),
        }
    }
}

impl SessionsConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self
            .reminder_minutes
            .iter()
            .any(|m| !(1..=10_080).contains(m))
        {
            return Err("sessions.reminder_minutes must be between 1 and 10080 each".into());
        }
        if !(0..=720).contains(&self.completion_grace_hours) {
            return Err("sessions.completion_grace_hours must be between 0 and 720".into());
        }
        if self.default_timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(format!(
                "sessions.default_timezone `{}` is not an IANA time zone",
                self.default_timezone
            ));
        }
        let problems = crate::domain::availability::Settings::check_numbers(
            &self.default_durations,
            self.default_min_notice_hours,
            self.default_buffer_minutes,
            self.default_max_per_day,
            self.default_horizon_days,
            self.default_request_ttl_hours,
            self.default_cancel_window_hours,
        );
        if !problems.is_empty() {
            let all: Vec<String> = problems
                .iter()
                .map(|(field, m)| format!("sessions.default_{field}: {m}"))
                .collect();
            return Err(all.join("; "));
        }
        crate::domain::availability::check_currency(&self.default_currency)
            .map_err(|m| format!("sessions.default_currency: {m}"))
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VideoProvider {
    /// Zoom when `[zoom]` is configured, the template otherwise.
    Auto,
    Zoom,
    Template,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct VideoConfig {
    /// `auto`, `zoom` or `template`.
    pub provider: VideoProvider,
    /// The meeting link when no Zoom meeting is made. `{room}` becomes a
    /// random unguessable name, `{session_id}` the session's id.
    /// BigBlueButton or Teams patterns work the same way.
    pub link_template: String,
    /// When Zoom fails (after its retries), use the template instead of
    /// refusing the accept.
    pub fallback_to_template: bool,
}

impl Default for VideoConfig {
    fn default() -> Self {
        Self {
            provider: VideoProvider::Auto,
            link_template: "https://meet.jit.si/colloquy-{room}".into(),
            fallback_to_template: true,
        }
    }
}

impl VideoConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !self.link_template.contains("{room}") && !self.link_template.contains("{session_id}") {
            return Err("video.link_template must contain {room} or {session_id}".into());
        }
        let sample = self
            .link_template
            .replace("{room}", "room")
            .replace("{session_id}", "1");
        match url::Url::parse(&sample) {
            Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Ok(()),
            _ => Err("video.link_template must be an http(s) URL".into()),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZoomConfig {
    /// Server-to-server OAuth app credentials (Zoom Marketplace).
    pub account_id: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// A ready access token (the seed's `ZOOM_API_KEY`), used when no OAuth
    /// credentials are set. It is not refreshed.
    pub api_key: Secret,
    pub api_base_url: String,
    pub oauth_url: String,
    /// The Zoom user that hosts the meetings.
    pub user_id: String,
    pub timeout_secs: u64,
    pub max_retries: u32,
}

impl Default for ZoomConfig {
    fn default() -> Self {
        Self {
            account_id: String::new(),
            client_id: String::new(),
            client_secret: Secret::default(),
            api_key: Secret::default(),
            api_base_url: "https://api.zoom.us/v2".into(),
            oauth_url: "https://zoom.us/oauth/token".into(),
            user_id: "me".into(),
            timeout_secs: 10,
            max_retries: 2,
        }
    }
}

impl ZoomConfig {
    pub fn has_oauth(&self) -> bool {
        !self.account_id.trim().is_empty()
            && !self.client_id.trim().is_empty()
            && self.client_secret.is_set()
    }

    pub fn enabled(&self) -> bool {
        self.has_oauth() || self.api_key.is_set()
    }

    pub fn validate(&self) -> Result<(), String> {
        for (name, u) in [
            ("api_base_url", &self.api_base_url),
            ("oauth_url", &self.oauth_url),
        ] {
            if url::Url::parse(u).is_err() {
                return Err(format!("zoom.{name} is not a URL"));
            }
        }
        let parts = [
            !self.account_id.trim().is_empty(),
            !self.client_id.trim().is_empty(),
            self.client_secret.is_set(),
        ];
        if parts.iter().any(|p| *p) && !parts.iter().all(|p| *p) {
            return Err("zoom: set account_id, client_id and client_secret together".into());
        }
        if self.timeout_secs == 0 || self.user_id.trim().is_empty() {
            return Err("zoom.timeout_secs must be > 0 and zoom.user_id not empty".into());
        }
        Ok(())
    }
}
