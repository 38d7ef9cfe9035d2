//! Each role's home: a reader's "what's next, and what did I spend", a
//! researcher's "what needs my answer, what did I earn, how am I rated".
//! Months are the person's own (their zone), and money is per currency.

mod reader;
mod researcher;

use chrono::{DateTime, Months, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::buckets::{local_date, Bucket, Buckets};
use crate::db::repos::consulting_sessions::SessionRow;
use crate::db::repos::researchers;
use crate::domain::{zone, ConsultingSessionId, ResearcherId, SessionStatus};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

pub use reader::*;
pub use researcher::*;

/// Months shown in spending and earnings, the current one included.
pub const MONTHS: u32 = 12;
/// Sessions listed per list.
pub const LISTED: usize = 10;

/// A session in a dashboard list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionBrief {
    pub id: ConsultingSessionId,
    pub status: SessionStatus,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub reader_name: String,
    pub topic: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paper_title: Option<String>,
    /// When an unanswered request expires.
    pub expires_at: DateTime<Utc>,
}

impl From<SessionRow> for SessionBrief {
    fn from(s: SessionRow) -> Self {
        Self {
            id: s.id,
            status: s.status,
            start: s.start,
            end: s.end,
            researcher_id: s.researcher_id,
            researcher_name: s.researcher_name,
            reader_name: s.reader_name,
            topic: s.topic,
            paper_title: s.paper_title,
            expires_at: s.expires_at,
        }
    }
}

pub(super) fn months(tz: zone::Tz, now: DateTime<Utc>) -> AppResult<Buckets> {
    let this = Bucket::Month.floor(local_date(tz, now));
    let first = this - Months::new(MONTHS - 1);
    Buckets::cover(Bucket::Month, tz, first, this + Months::new(1)).map_err(AppError::internal)
}

/// The researcher profile an account owns; `Forbidden` without one.
pub async fn own_profile(state: &AppState, who: &Principal) -> AppResult<ResearcherId> {
    let user = who.user_id;
    state
        .db
        .read(move |c| researchers::by_user(c, user))
        .await?
        .ok_or_else(|| {
            AppError::refused(
                "no_researcher_profile",
                "This dashboard is for researchers with a linked profile.",
            )
        })
}
