//! What moderators see and decide: the queue by status, and publish, hide
//! or remove, each audited, with the author told when a held review is
//! published or removed.

use chrono::{DateTime, Utc};
use rusqlite::Transaction;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::rules::HoldRule;
use super::{notify, ratings, status_label, ReplyView};
use crate::db::repos::audit;
use crate::db::repos::reviews::{self as repo, QueueFilter, ReviewRow};
use crate::domain::{text, ConsultingSessionId, ResearcherId, ReviewId, ReviewStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageParams};
use crate::services::accounts::{event, Principal};
use crate::state::AppState;

/// A moderator's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Publish,
    Hide,
    Remove,
}

impl Action {
    fn target(self) -> ReviewStatus {
        match self {
            Action::Publish => ReviewStatus::Published,
            Action::Hide => ReviewStatus::Hidden,
            Action::Remove => ReviewStatus::Removed,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Action::Publish => "publish",
            Action::Hide => "hide",
            Action::Remove => "remove",
        }
    }
}

/// What a decision is about: the review (default) or the researcher's
/// answer to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    #[default]
    Review,
    Reply,
}

/// `POST /api/v1/admin/reviews/{id}/moderate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub action: Action,
    /// Why; the author reads it when a held review is published or removed.
    #[schema(value_type = crate::domain::api_schema::TextLine)]
    pub reason: String,
    #[serde(default)]
    pub part: Part,
}

/// A review as moderators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueItem {
    pub id: ReviewId,
    pub session_id: ConsultingSessionId,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub author_id: UserId,
    pub author_name: String,
    /// `reader` or `researcher` (two-way reviews).
    pub side: String,
    pub rating: u8,
    pub comment: Option<String>,
    pub status: ReviewStatus,
    /// The rule that held it (`contact_details`, `blocked_term`,
    /// `one_star_without_comment`, `new_account`, `reports`).
    pub held_rule: Option<String>,
    /// The rule in words.
    pub held_because: Option<String>,
    pub open_reports: i64,
    /// The open reports' reasons.
    pub report_reasons: Vec<String>,
    pub reply: Option<ReplyView>,
    pub reply_status: Option<ReviewStatus>,
    pub reply_held_rule: Option<String>,
    pub moderation_note: Option<String>,
    pub created_at: String,
}

fn item(r: ReviewRow, report_reasons: Vec<String>) -> QueueItem {
    let label = |rule: &Option<String>| {
        rule.as_deref()
            .and_then(HoldRule::parse)
            .map(|h| h.label().to_string())
    };
    QueueItem {
        held_because: label(&r.held_rule),
        reply: r
            .reply
            .clone()
            .zip(r.replied_at.clone())
            .map(|(text, created_at)| ReplyView { text, created_at }),
        id: r.id,
        session_id: r.session_id,
        researcher_id: r.researcher_id,
        researcher_name: r.researcher_name,
        author_id: r.author_id,
        author_name: r.author_name,
        side: r.side.as_str().to_string(),
        rating: r.rating,
        comment: r.comment,
        status: r.status,
        held_rule: r.held_rule,
        open_reports: r.open_reports,
        report_reasons,
        reply_status: r.reply_status,
        reply_held_rule: r.reply_held_rule,
        moderation_note: r.moderation_note,
        created_at: r.created_at,
    }
}

/// What the queue's `status` filter accepts.
pub const FILTERS: &[&str] = &["held", "reported", "published", "hidden", "removed", "all"];

/// Reads `?status=`; default `held`.
pub fn parse_filter(raw: Option<&str>) -> AppResult<QueueFilter> {
    match raw.unwrap_or("held") {
        "reported" => Ok(QueueFilter::Reported),
        "all" => Ok(QueueFilter::All),
        s => s
            .parse::<ReviewStatus>()
            .map(QueueFilter::Status)
            .map_err(|_| {
                AppError::field("status", format!("must be one of {}", FILTERS.join(", ")))
            }),
    }
}

/// The moderation queue, newest first (admins). `held` also lists
/// published reviews whose answer is held.
pub async fn queue(
    state: &AppState,
    who: &Principal,
    filter: QueueFilter,
    page: &PageParams,
) -> AppResult<Page<QueueItem>> {
    who.require_admin()?;
    let (limit, before) = (page.limit()?, page.after_id::<ReviewId>()?);
    let keys = state.keys.clone();
    let items = state
        .db
        .read(move |c| {
            let rows = repo::queue(c, &keys, filter, before, limit + 1)?;
            let ids: Vec<ReviewId> = rows.iter().map(|r| r.id).collect();
            let mut reasons = repo::open_reports_of(c, &keys, &ids)?;
            Ok(rows
                .into_iter()
                .map(|r| {
                    let why = reasons.remove(&r.id).unwrap_or_default();
                    item(r, why)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(Page::from_rows(items, limit, |i| i.id))
}

/// Whether a moderator may move a review from `from` with `action`.
fn allowed(from: ReviewStatus, action: Action) -> bool {
    use ReviewStatus as S;
    match action {
        Action::Publish => matches!(from, S::Held | S::Hidden | S::Published),
        Action::Hide => matches!(from, S::Published | S::Held),
        Action::Remove => from != S::Removed,
    }
}

/// Applies a decision inside the caller's transaction (also used by
/// dispute resolutions that remove a review).
pub fn decide_in(
    tx: &Transaction<'_>,
    st: &AppState,
    id: ReviewId,
    admin: UserId,
    d: &Decision,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<ReviewRow> {
    let r = repo::find(tx, &st.keys, id)?.ok_or(AppError::NotFound)?;
    match d.part {
        Part::Review => {
            if !allowed(r.status, d.action) {
                return Err(AppError::conflict(
                    "illegal_moderation",
                    format!(
                        "A review that is {} cannot be {}.",
                        status_label(r.status),
                        match d.action {
                            Action::Publish => "published",
                            Action::Hide => "hidden",
                            Action::Remove => "removed",
                        }
                    ),
                ));
            }
            let to = d.action.target();
            repo::set_status(tx, &st.keys, id, to, None, Some((admin, reason)), now)?;
            ratings::moved(tx, &r, Some((r.rating, r.status)), (r.rating, to))?;
            repo::resolve_reports(tx, id, now)?;
            let was_held = r.status == ReviewStatus::Held;
            if was_held && matches!(d.action, Action::Publish | Action::Remove) {
                notify::moderated(tx, st, &r, d.action == Action::Publish, reason, now)?;
            }
            // Readers see it for the first time: the researcher is told,
            // as for a review published at once. (Held by reports, or
            // hidden, it was public before.)
            let first_time = was_held && r.held_rule.as_deref() != Some(HoldRule::Reports.as_str());
            if d.action == Action::Publish
                && r.side == crate::db::repos::reviews::Side::Reader
                && first_time
            {
                notify::new_review(tx, st, &r, now)?;
            }
        }
        Part::Reply => {
            let Some(from) = r.reply_status else {
                return Err(AppError::conflict(
                    "no_answer",
                    "This review has no answer to moderate.",
                ));
            };
            if !allowed(from, d.action) {
                return Err(AppError::conflict(
                    "illegal_moderation",
                    format!(
                        "An answer that is {} cannot be changed that way.",
                        status_label(from)
                    ),
                ));
            }
            repo::set_reply_status(tx, id, d.action.target(), now)?;
        }
    }
    audit::append(
        tx,
        &st.keys,
        event(
            Some(admin),
            "review.moderated",
            Some(format!("review:{id}")),
            // The reason is free text: it is kept encrypted on the review, not
            // in the audit trail.
            json!({"action": d.action.as_str(), "part": d.part, "from": r.status}),
            None,
        ),
        now,
    )?;
    repo::find(tx, &st.keys, id)?.ok_or(AppError::NotFound)
}

/// A moderator's decision (admins).
pub async fn moderate(
    state: &AppState,
    who: &Principal,
    id: ReviewId,
    d: Decision,
) -> AppResult<QueueItem> {
    who.require_admin()?;
    let reason = text::line(&d.reason, 500).map_err(|m| AppError::field("reason", m))?;
    let (st, admin, now) = (state.clone(), who.user_id, state.now());
    let row = state
        .db
        .write(move |tx| decide_in(tx, &st, id, admin, &d, &reason, now))
        .await?;
    crate::services::mail::wake(state);
    Ok(item(row, Vec::new()))
}

/// Removes a review as a dispute's resolution, inside its transaction.
pub fn remove_in(
    tx: &Transaction<'_>,
    st: &AppState,
    id: ReviewId,
    admin: UserId,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let d = Decision {
        action: Action::Remove,
        reason: reason.to_string(),
        part: Part::Review,
    };
    decide_in(tx, st, id, admin, &d, reason, now).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_is_final_and_hidden_reviews_cannot_be_hidden_again() {
        use ReviewStatus as S;
        assert!(!allowed(S::Removed, Action::Publish));
        assert!(!allowed(S::Removed, Action::Remove));
        assert!(!allowed(S::Hidden, Action::Hide));
        assert!(allowed(S::Held, Action::Publish));
        assert!(allowed(S::Published, Action::Hide));
    }
}
