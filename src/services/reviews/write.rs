//! Writing reviews: the reader's review of a completed session (and, with
//! `[reviews] two_way`, the researcher's of the reader) and its edits. The
//! researcher's answer and readers' reports are in `answers.rs`.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::rules::{self, HoldRule};
use super::{notify, ratings, view, ReviewView, MAX_TEXT};
use crate::db::repos::consulting_sessions::{self as sessions_repo, SessionRow};
use crate::db::repos::reviews::{self as repo, NewReview, ReviewRow, Side};
use crate::db::repos::{audit, users};
use crate::domain::rating::Stars;
use crate::domain::{text, ConsultingSessionId, ReviewId, ReviewStatus, SessionStatus, UserId};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::services::accounts::{event, Principal};
use crate::state::AppState;

/// `POST /api/v1/consulting/reviews`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReviewBody {
    pub session_id: ConsultingSessionId,
    /// 1 to 5.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i64,
    /// 0 to 2,000 characters after trimming; control characters are
    /// stripped.
    pub comment: Option<String>,
}

/// `PATCH /api/v1/consulting/reviews/{id}`: what is given changes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewPatch {
    /// 1 to 5.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<i64>,
    /// `""` clears the comment.
    pub comment: Option<String>,
}

/// A checked rating and comment.
struct Checked {
    stars: Stars,
    comment: Option<String>,
}

fn check(rating: i64, comment: Option<&str>) -> AppResult<Checked> {
    let mut errors = FieldErrors::new();
    let stars = errors.check("rating", Stars::parse(rating));
    let comment = errors.check("comment", text::stripped_block(comment, MAX_TEXT));
    errors.into_result()?;
    match (stars, comment) {
        (Some(stars), Some(comment)) => Ok(Checked { stars, comment }),
        _ => Err(AppError::internal("checked fields missing")),
    }
}

/// Hours since the account was made (0 when unreadable).
pub(super) fn account_age_hours(
    conn: &rusqlite::Connection,
    st: &AppState,
    id: UserId,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let created = users::find(conn, &st.keys, id)?
        .and_then(|u| crate::db::parse_ts(&u.created_at).ok())
        .unwrap_or(now);
    Ok((now - created).num_hours())
}

/// Appends the audit row of a review event by `who`.
pub(super) fn audited(
    tx: &rusqlite::Transaction<'_>,
    st: &AppState,
    who: UserId,
    action: &str,
    id: ReviewId,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let e = event(
        Some(who),
        action,
        Some(format!("review:{id}")),
        detail,
        None,
    );
    audit::append(tx, &st.keys, e, now).map(|_| ())
}

pub(super) fn status_of(rule: Option<HoldRule>) -> (ReviewStatus, Option<&'static str>) {
    match rule {
        Some(r) => (ReviewStatus::Held, Some(r.as_str())),
        None => (ReviewStatus::Published, None),
    }
}

/// Which side the caller writes from: the reader always; the researcher
/// only with `two_way`. 404 for strangers, 403 for anyone else.
fn side_of(st: &AppState, s: &SessionRow, who: &Principal) -> AppResult<Side> {
    if s.reader_id == who.user_id {
        Ok(Side::Reader)
    } else if s.researcher_user == Some(who.user_id) {
        if st.config.reviews.two_way {
            Ok(Side::Researcher)
        } else {
            Err(AppError::Forbidden)
        }
    } else if who.is_admin() {
        Err(AppError::Forbidden)
    } else {
        Err(AppError::NotFound)
    }
}

fn check_reviewable(st: &AppState, s: &SessionRow, now: DateTime<Utc>) -> AppResult<()> {
    if s.status != SessionStatus::Completed {
        return Err(AppError::conflict(
            "session_not_completed",
            "A session can be reviewed once it is completed.",
        ));
    }
    let days = st.config.reviews.window_days;
    if now > s.end + Duration::days(days) {
        return Err(AppError::conflict(
            "review_window_closed",
            format!("Sessions can be reviewed up to {days} days after they end."),
        ));
    }
    Ok(())
}

/// Writes the caller's review of a completed session.
pub async fn create(
    state: &AppState,
    who: &Principal,
    body: NewReviewBody,
) -> AppResult<ReviewView> {
    let checked = check(body.rating, body.comment.as_deref())?;
    let (st, who, now) = (state.clone(), *who, state.now());
    let row = state
        .db
        .write(move |tx| {
            let s = sessions_repo::find(tx, &st.keys, body.session_id)?.ok_or(AppError::NotFound)?;
            let side = side_of(&st, &s, &who)?;
            check_reviewable(&st, &s, now)?;
            let age = account_age_hours(tx, &st, who.user_id, now)?;
            let rule = rules::hold(
                &st.config.reviews,
                checked.comment.as_deref(),
                Some(checked.stars.get()),
                age,
            );
            let (status, held_rule) = status_of(rule);
            let id = repo::insert(
                tx,
                &st.keys,
                &NewReview {
                    session_id: s.id,
                    side,
                    author_id: who.user_id,
                    researcher_id: s.researcher_id,
                    reader_id: s.reader_id,
                    rating: checked.stars.get(),
                    comment: checked.comment.as_deref(),
                    status,
                    held_rule,
                },
                now,
            )?;
            let row = repo::find(tx, &st.keys, id)?.ok_or(AppError::NotFound)?;
            ratings::moved(tx, &row, None, (row.rating, row.status))?;
            audited(tx, &st, who.user_id, "review.created", id, json!({"session_id": s.id, "rating": row.rating, "status": status, "held_rule": held_rule}), now)?;
            if status == ReviewStatus::Published && side == Side::Reader {
                notify::new_review(tx, &st, &row, now)?;
            }
            Ok(row)
        })
        .await?;
    crate::services::mail::wake(state);
    Ok(view(state, row))
}

/// A review the caller may see: published ones are public; others only
/// for their author and admins. 404 otherwise, so ids do not leak.
pub(super) fn visible(r: Option<ReviewRow>, who: &Principal) -> AppResult<ReviewRow> {
    match r {
        Some(r)
            if r.status == ReviewStatus::Published
                || r.author_id == who.user_id
                || who.is_admin() =>
        {
            Ok(r)
        }
        _ => Err(AppError::NotFound),
    }
}

/// One review, for its author, the answering researcher, or admins.
pub async fn get(state: &AppState, who: &Principal, id: ReviewId) -> AppResult<ReviewView> {
    let keys = state.keys.clone();
    let r = state.db.read(move |c| repo::find(c, &keys, id)).await?;
    Ok(view(state, visible(r, who)?))
}

/// The author changes the rating or comment within `[reviews] edit_hours`;
/// the rules run again.
pub async fn edit(
    state: &AppState,
    who: &Principal,
    id: ReviewId,
    patch: ReviewPatch,
) -> AppResult<ReviewView> {
    let (st, who, now) = (state.clone(), *who, state.now());
    let row = state
        .db
        .write(move |tx| {
            let r = visible(repo::find(tx, &st.keys, id)?, &who)?;
            if r.author_id != who.user_id {
                return Err(AppError::Forbidden);
            }
            if matches!(r.status, ReviewStatus::Hidden | ReviewStatus::Removed) {
                return Err(AppError::conflict(
                    "review_not_editable",
                    "A moderator took this review down; it can no longer be edited.",
                ));
            }
            let hours = st.config.reviews.edit_hours;
            let written = crate::db::parse_ts(&r.created_at)?;
            if now > written + Duration::hours(hours) {
                return Err(AppError::conflict(
                    "edit_window_closed",
                    format!("A review can be edited for {hours} hours after it is written."),
                ));
            }
            let rating = patch.rating.unwrap_or(i64::from(r.rating));
            let comment = match &patch.comment {
                Some(c) => Some(c.as_str()),
                None => r.comment.as_deref(),
            };
            let checked = check(rating, comment)?;
            let age = account_age_hours(tx, &st, who.user_id, now)?;
            // Readers' reports stand until a moderator has looked.
            let rule = if r.held_rule.as_deref() == Some(HoldRule::Reports.as_str()) {
                Some(HoldRule::Reports)
            } else {
                rules::hold(
                    &st.config.reviews,
                    checked.comment.as_deref(),
                    Some(checked.stars.get()),
                    age,
                )
            };
            let (status, held_rule) = status_of(rule);
            let edited = repo::Edited {
                rating: checked.stars.get(),
                comment: checked.comment.as_deref(),
                status,
                held_rule,
            };
            repo::update(tx, &st.keys, id, &edited, now)?;
            ratings::moved(
                tx,
                &r,
                Some((r.rating, r.status)),
                (checked.stars.get(), status),
            )?;
            audited(
                tx,
                &st,
                who.user_id,
                "review.edited",
                id,
                json!({"rating": checked.stars.get(), "status": status, "held_rule": held_rule}),
                now,
            )?;
            repo::find(tx, &st.keys, id)?.ok_or(AppError::NotFound)
        })
        .await?;
    Ok(view(state, row))
}

/// The reader's review of a session, if they wrote one (for the session
/// page).
pub async fn of_session(
    state: &AppState,
    who: &Principal,
    session: ConsultingSessionId,
) -> AppResult<Option<ReviewView>> {
    let keys = state.keys.clone();
    let row = state
        .db
        .read(move |c| repo::of_session(c, &keys, session, Side::Reader))
        .await?;
    Ok(row
        .filter(|r| {
            r.author_id == who.user_id || r.status == ReviewStatus::Published || who.is_admin()
        })
        .map(|r| view(state, r)))
}
