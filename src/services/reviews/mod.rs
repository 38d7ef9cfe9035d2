//! Reviews of completed sessions: who may write, edit, answer and report
//! them, the rules that hold them for moderation, the moderators'
//! decisions, and the ratings they add up to.
//!
//! ```text
//! written → published | held (a rule)
//! published → held (reports) | hidden | removed      (moderators)
//! held | hidden → published | hidden | removed        (moderators)
//! ```
//!
//! A researcher's stored rating (`researcher_ratings`) counts the
//! published reader reviews; every change of what it counts updates it in
//! the same transaction (`ratings::moved`).

pub mod analytics;
pub mod answers;
pub mod jobs;
pub mod moderation;
mod notify;
pub mod ratings;
pub mod rules;
pub mod write;

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::repos::consents;
use crate::db::repos::reviews::{self as repo, ReviewRow};
use crate::domain::{
    ConsentAction, ConsentKind, ConsentSource, ConsultingSessionId, ResearcherId, ReviewId,
    ReviewStatus,
};
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageParams};
use crate::services::accounts::Principal;
use crate::state::AppState;

pub use ratings::{RatingView, Summary};

/// The longest comment or answer, in characters after trimming.
pub const MAX_TEXT: usize = 2000;

/// The researcher's answer, as everyone sees it once published.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplyView {
    pub text: String,
    pub created_at: String,
}

/// A published review as the public list shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicReview {
    pub id: ReviewId,
    /// 1 to 5.
    pub rating: u8,
    pub comment: Option<String>,
    /// The reader, shortened: "Ada L.".
    pub author: String,
    pub created_at: String,
    /// The researcher's published answer, if any.
    pub reply: Option<ReplyView>,
}

/// A review as its author (and the answering researcher) sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: ReviewId,
    pub session_id: ConsultingSessionId,
    pub researcher_id: ResearcherId,
    /// `reader` (of the researcher) or `researcher` (of the reader).
    pub side: String,
    pub rating: u8,
    pub comment: Option<String>,
    /// `published`, or `held` for moderation (then nobody else sees it),
    /// `hidden` or `removed` by a moderator.
    pub status: ReviewStatus,
    /// Words for the status: "held for moderation".
    pub status_label: String,
    pub created_at: String,
    pub updated_at: String,
    /// The author may edit it until then.
    pub editable_until: String,
    /// Its author may edit it now (within the edit window, and not taken
    /// down by a moderator).
    pub editable: bool,
    pub reply: Option<ReplyView>,
    /// The answer's status, when there is one (`held` until a moderator
    /// publishes it).
    pub reply_status: Option<ReviewStatus>,
}

/// Words for a review's status, for its author.
pub fn status_label(s: ReviewStatus) -> &'static str {
    match s {
        ReviewStatus::Published => "published",
        ReviewStatus::Held => "held for moderation",
        ReviewStatus::Hidden => "hidden by a moderator",
        ReviewStatus::Removed => "removed by a moderator",
    }
}

/// "Ada Lovelace" → "Ada L."; one word stays as it is.
pub fn short_name(full: &str) -> String {
    let mut words = full.split_whitespace();
    match (words.next(), words.next_back()) {
        (Some(first), Some(last)) => match last.chars().next() {
            Some(c) => format!("{first} {}.", c.to_uppercase()),
            None => first.to_string(),
        },
        (Some(first), None) => first.to_string(),
        _ => "A reader".to_string(),
    }
}

fn published_reply(r: &ReviewRow) -> Option<ReplyView> {
    match (&r.reply, r.reply_status, &r.replied_at) {
        (Some(text), Some(ReviewStatus::Published), Some(at)) => Some(ReplyView {
            text: text.clone(),
            created_at: at.clone(),
        }),
        _ => None,
    }
}

fn public(r: ReviewRow) -> PublicReview {
    PublicReview {
        reply: published_reply(&r),
        id: r.id,
        rating: r.rating,
        author: short_name(&r.author_name),
        comment: r.comment,
        created_at: r.created_at,
    }
}

pub(crate) fn view(state: &AppState, r: ReviewRow) -> ReviewView {
    let until = crate::db::parse_ts(&r.created_at)
        .ok()
        .map(|t| t + chrono::Duration::hours(state.config.reviews.edit_hours));
    let editable = until.is_some_and(|t| state.now() <= t)
        && !matches!(r.status, ReviewStatus::Hidden | ReviewStatus::Removed);
    let editable_until = until.map(crate::db::ts).unwrap_or_default();
    ReviewView {
        id: r.id,
        session_id: r.session_id,
        researcher_id: r.researcher_id,
        side: r.side.as_str().to_string(),
        rating: r.rating,
        status: r.status,
        status_label: status_label(r.status).to_string(),
        editable_until,
        editable,
        reply: r
            .reply
            .as_ref()
            .zip(r.replied_at.as_ref())
            .map(|(t, at)| ReplyView {
                text: t.clone(),
                created_at: at.clone(),
            }),
        reply_status: r.reply_status,
        comment: r.comment,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// A researcher's published reviews with their summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewList {
    pub items: Vec<PublicReview>,
    pub next_cursor: Option<String>,
    pub summary: Summary,
}

/// The public list: published reader reviews, newest first (public).
pub async fn list_public(
    state: &AppState,
    researcher: ResearcherId,
    page: &PageParams,
) -> AppResult<ReviewList> {
    let (limit, before) = (page.limit()?, page.after_id::<ReviewId>()?);
    let keys = state.keys.clone();
    let (rows, tally) = state
        .db
        .read(move |c| {
            crate::db::repos::researchers::find(c, &keys, researcher)?.ok_or(AppError::NotFound)?;
            Ok((
                repo::published_of(c, &keys, researcher, before, limit + 1)?,
                repo::tally(c, researcher)?,
            ))
        })
        .await?;
    let page = Page::from_rows(rows, limit, |r| r.id);
    Ok(ReviewList {
        items: page.items.into_iter().map(public).collect(),
        next_cursor: page.next_cursor,
        summary: Summary::from(tally),
    })
}

/// Which review e-mails the caller gets: (new reviews of them, reminders
/// to review).
pub async fn mail_prefs(state: &AppState, who: &Principal) -> AppResult<(bool, bool)> {
    let id = who.user_id;
    state.db.read(move |c| repo::mail_prefs(c, id)).await
}

pub async fn set_mail_prefs(
    state: &AppState,
    who: &Principal,
    new_reviews: bool,
    reminders: bool,
) -> AppResult<()> {
    let (id, now) = (who.user_id, state.now());
    state
        .db
        .write(move |tx| {
            let (_, before) = repo::mail_prefs(tx, id)?;
            repo::set_mail_prefs(tx, id, new_reviews, reminders)?;
            // The reminders are the `review_reminders` consent: a change
            // goes into the consent ledger too.
            if before != reminders {
                let action = if reminders {
                    ConsentAction::Grant
                } else {
                    ConsentAction::Withdraw
                };
                consents::append(
                    tx,
                    id,
                    ConsentKind::ReviewReminders,
                    action,
                    None,
                    ConsentSource::ReviewSettings,
                    now,
                )?;
            }
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_shortened_to_first_name_and_initial() {
        assert_eq!(short_name("Ada Lovelace"), "Ada L.");
        assert_eq!(short_name("Ada King Lovelace"), "Ada L.");
        assert_eq!(short_name("  ada   lovelace "), "ada L.");
        assert_eq!(short_name("Plato"), "Plato");
        assert_eq!(short_name(""), "A reader");
    }
}
