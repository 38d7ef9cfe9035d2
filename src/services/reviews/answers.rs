//! What others add to a published review: the researcher's one answer,
//! and readers' reports (enough of them hold it for moderation).

use serde_json::json;

use super::rules::{self, HoldRule};
use super::write::{account_age_hours, audited, status_of, visible};
use super::{ratings, view, ReviewView, MAX_TEXT};
use crate::db::repos::reviews::{self as repo, Side};
use crate::domain::{text, ReviewId, ReviewStatus};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// The researcher answers a published review of them, once; the answer
/// goes through the same rules.
pub async fn reply(
    state: &AppState,
    who: &Principal,
    id: ReviewId,
    raw: &str,
) -> AppResult<ReviewView> {
    let text = text::stripped_block(Some(raw), MAX_TEXT)
        .map_err(|m| AppError::field("text", m))?
        .ok_or_else(|| AppError::field("text", "is required"))?;
    let (st, who, now) = (state.clone(), *who, state.now());
    let row = state
        .db
        .write(move |tx| {
            let r = visible(repo::find(tx, &st.keys, id)?, &who)?;
            let owner = crate::db::repos::researchers::find(tx, &st.keys, r.researcher_id)?
                .and_then(|p| p.user_id);
            if r.side != Side::Reader || owner != Some(who.user_id) {
                return Err(AppError::Forbidden);
            }
            if r.status != ReviewStatus::Published {
                return Err(AppError::NotFound);
            }
            let age = account_age_hours(tx, &st, who.user_id, now)?;
            let (status, held_rule) =
                status_of(rules::hold(&st.config.reviews, Some(&text), None, age));
            if !repo::set_reply(tx, &st.keys, id, &text, status, held_rule, now)? {
                return Err(AppError::conflict(
                    "already_answered",
                    "You answered this review already.",
                ));
            }
            audited(
                tx,
                &st,
                who.user_id,
                "review.answered",
                id,
                json!({"status": status, "held_rule": held_rule}),
                now,
            )?;
            repo::find(tx, &st.keys, id)?.ok_or(AppError::NotFound)
        })
        .await?;
    Ok(view(state, row))
}

/// Any signed-in account reports a published review (once each); enough
/// distinct open reports hold it for moderation.
pub async fn report(state: &AppState, who: &Principal, id: ReviewId, raw: &str) -> AppResult<()> {
    let reason = text::line(raw, 500).map_err(|m| AppError::field("reason", m))?;
    let (st, who, now) = (state.clone(), *who, state.now());
    state
        .db
        .write(move |tx| {
            let r = repo::find(tx, &st.keys, id)?
                .filter(|r| r.status == ReviewStatus::Published && r.side == Side::Reader)
                .ok_or(AppError::NotFound)?;
            if r.author_id == who.user_id {
                return Err(AppError::conflict(
                    "own_review",
                    "You cannot report your own review; edit it instead.",
                ));
            }
            if !repo::add_report(tx, &st.keys, id, who.user_id, &reason, now)? {
                return Err(AppError::conflict(
                    "already_reported",
                    "You reported this review already; a moderator will look at it.",
                ));
            }
            let open = r.open_reports + 1;
            let held = open >= st.config.reviews.reports_to_hold;
            if held {
                repo::set_status(
                    tx,
                    &st.keys,
                    id,
                    ReviewStatus::Held,
                    Some(HoldRule::Reports.as_str()),
                    None,
                    now,
                )?;
                ratings::moved(
                    tx,
                    &r,
                    Some((r.rating, r.status)),
                    (r.rating, ReviewStatus::Held),
                )?;
            }
            audited(
                tx,
                &st,
                who.user_id,
                "review.reported",
                id,
                json!({"open_reports": open, "held": held}),
                now,
            )?;
            Ok(())
        })
        .await
}
