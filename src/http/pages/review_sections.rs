//! The review parts of other pages: "Rate this session" on the session
//! page, and the reviews, answers, reports and figures on a researcher's
//! page. Their forms post to `reviews.rs`.

use chrono::Duration;

use super::context::Viewer;
use super::PageError;
use crate::domain::{ResearcherId, SessionStatus};
use crate::pagination::PageParams;
use crate::services::accounts::Principal;
use crate::services::reviews::analytics::{self, ReviewAnalytics};
use crate::services::reviews::write;
use crate::services::reviews::{self, ReviewList, ReviewView};
use crate::services::sessions::{Party, SessionView};
use crate::state::AppState;

/// The review part of a session page.
#[derive(Default)]
pub struct SessionReview {
    /// The reader's review, as the viewer may see it.
    pub review: Option<ReviewView>,
    /// The viewer is the reader and may write (or still edit) it now.
    pub can_write: bool,
    /// The stars and comment the form shows: as typed, or as saved.
    pub rating: String,
    pub comment: String,
    /// Until when a completed session may be reviewed (viewer's words).
    pub window_days: i64,
}

impl SessionReview {
    pub async fn of(
        state: &AppState,
        who: &Principal,
        s: &SessionView,
        typed: Option<(&str, &str)>,
    ) -> Result<Self, PageError> {
        if s.status != SessionStatus::Completed {
            return Ok(Self::default());
        }
        let review = write::of_session(state, who, s.id).await?;
        let now = state.now();
        let c = &state.config.reviews;
        let can_write = s.your_role == Party::Reader
            && match &review {
                None => now <= s.end + Duration::days(c.window_days),
                Some(r) => r.editable,
            };
        let (rating, comment) = match typed {
            Some((rating, comment)) => (rating.to_string(), comment.to_string()),
            None => (
                review
                    .as_ref()
                    .map(|r| r.rating.to_string())
                    .unwrap_or_default(),
                review
                    .as_ref()
                    .and_then(|r| r.comment.clone())
                    .unwrap_or_default(),
            ),
        };
        Ok(Self {
            rating,
            comment,
            review,
            can_write,
            window_days: c.window_days,
        })
    }
}

/// The reviews part of a researcher's page.
pub struct ProfileReviews {
    pub list: ReviewList,
    /// The viewer may answer (the researcher) and report (signed in).
    pub can_answer: bool,
    pub signed_in: bool,
    /// The researcher's own figures, on their own page.
    pub figures: Option<ReviewAnalytics>,
    /// The cursor for older reviews.
    pub older: Option<String>,
}

impl ProfileReviews {
    pub async fn of(
        state: &AppState,
        viewer: &Viewer,
        id: ResearcherId,
        own: bool,
        cursor: Option<String>,
    ) -> Result<Self, PageError> {
        let page = PageParams {
            limit: Some(10),
            cursor,
        };
        let list = reviews::list_public(state, id, &page).await?;
        let figures = match (&viewer.session, own) {
            (Some(who), true) => Some(analytics::for_researcher(state, who, id).await?),
            _ => None,
        };
        Ok(Self {
            older: list.next_cursor.clone(),
            list,
            can_answer: own,
            signed_in: viewer.session.is_some(),
            figures,
        })
    }

    /// A share (0.0–1.0) as a whole percentage.
    pub fn percent(share: &f64) -> String {
        format!("{:.0} %", share * 100.0)
    }
}
