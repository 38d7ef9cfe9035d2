//! Merges an admin decides: two claimed profiles collection found to be
//! one person (merge reviews), or any two profiles an admin merges.

use std::net::IpAddr;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::event;
use crate::db::repos::claims as repo;
use crate::db::repos::{audit, researchers};
use crate::domain::{MergeReviewId, MergeReviewStatus, ResearcherId};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, Principal};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MergeReviewView {
    pub id: MergeReviewId,
    pub first_id: ResearcherId,
    pub first_name: String,
    pub second_id: ResearcherId,
    pub second_name: String,
    pub reason: String,
    pub created_at: String,
}

/// Pairs of claimed profiles collection found to be one person (admins).
pub async fn merge_reviews(state: &AppState, admin: &Principal) -> AppResult<Vec<MergeReviewView>> {
    admin.require_admin()?;
    let rows = state.db.read(|c| repo::open_merge_reviews(c, 200)).await?;
    Ok(rows
        .into_iter()
        .map(|r| MergeReviewView {
            id: r.id,
            first_id: r.first_id,
            first_name: r.first_name,
            second_id: r.second_id,
            second_name: r.second_name,
            reason: r.reason,
            created_at: r.created_at,
        })
        .collect())
}

/// Merges `drop` into `keep` (admins). When both have owners, `drop`'s
/// owner loses it (audited with both ids and both owners).
pub async fn admin_merge(
    state: &AppState,
    admin: &Principal,
    keep: ResearcherId,
    drop: ResearcherId,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    admin.require_admin()?;
    if keep == drop {
        return Err(AppError::field("merge_id", "is the profile itself"));
    }
    let (keys, now, actor) = (state.keys.clone(), state.now(), admin.user_id);
    let released = state
        .db
        .write(move |tx| {
            let keep_owner = researchers::owner(tx, keep)?.ok_or(AppError::NotFound)?;
            let drop_owner = researchers::owner(tx, drop)?
                .ok_or_else(|| AppError::field("merge_id", "no such researcher"))?;
            // The admin decides that `drop`'s owner loses it; every other
            // refusal is the merge's own (`researchers::merge`).
            if keep_owner.is_some() && drop_owner.is_some() {
                researchers::release_owner(tx, drop, now)?;
            }
            repo::close_merge_review(tx, keep, drop, MergeReviewStatus::Merged, actor, now)?;
            researchers::merge(tx, keep, drop, "admin", now)?;
            crate::db::encrypted_columns::reseal_merged(tx, &keys, drop.into(), keep.into())?;
            let detail = json!({"kept": keep, "merged": drop, "kept_owner": keep_owner, "merged_owner": drop_owner});
            audit::append(tx, &keys, event(actor, "researcher.merged", keep, detail, ip), now)?;
            Ok(drop_owner.filter(|_| keep_owner.is_some()))
        })
        .await?;
    if let Some(u) = released {
        accounts::forget_role(state, u).await?;
    }
    Ok(())
}

/// What an admin decides about a merge review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeDecision {
    KeepFirst,
    KeepSecond,
    /// Not the same person.
    Dismiss,
}

/// Decides an open merge review (admins): merge keeping either profile,
/// or close it.
pub async fn decide_merge_review(
    state: &AppState,
    admin: &Principal,
    id: MergeReviewId,
    decision: MergeDecision,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    admin.require_admin()?;
    let (first, second) = state
        .db
        .read(move |c| repo::find_merge_review(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    match decision {
        MergeDecision::KeepFirst => admin_merge(state, admin, first, second, ip).await,
        MergeDecision::KeepSecond => admin_merge(state, admin, second, first, ip).await,
        MergeDecision::Dismiss => dismiss_merge_review(state, admin, id, ip).await,
    }
}

/// "Not the same person": closes a merge review (admins).
pub async fn dismiss_merge_review(
    state: &AppState,
    admin: &Principal,
    id: MergeReviewId,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    admin.require_admin()?;
    let (keys, now, actor) = (state.keys.clone(), state.now(), admin.user_id);
    state
        .db
        .write(move |tx| {
            let (a, b) = repo::find_merge_review(tx, id)?.ok_or(AppError::NotFound)?;
            repo::close_merge_review(tx, a, b, MergeReviewStatus::Dismissed, actor, now)?;
            let detail = json!({"review_id": id, "first": a, "second": b});
            audit::append(
                tx,
                &keys,
                event(actor, "researcher.merge_dismissed", a, detail, ip),
                now,
            )?;
            Ok(())
        })
        .await
}
