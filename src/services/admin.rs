//! What admins read: every account, and the audit trail.

use crate::db::repos::audit::{self, AuditRow};
use crate::db::repos::users::{self, UserRow};
use crate::domain::{AuditId, UserId};
use crate::error::AppResult;
use crate::pagination::{Page, PageParams};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// Accounts in id order.
pub async fn list_users(
    state: &AppState,
    who: &Principal,
    page: &PageParams,
) -> AppResult<Page<UserRow>> {
    who.require_admin()?;
    let limit = page.limit()?;
    let after = page.after_id()?.map(UserId);
    let keys = state.keys.clone();
    let rows = state
        .db
        .read(move |c| users::list(c, &keys, after, limit + 1))
        .await?;
    Ok(Page::from_rows(rows, limit, |u| u.id.0))
}

/// Audit events, newest first, optionally of one action.
pub async fn list_audit(
    state: &AppState,
    who: &Principal,
    action: Option<String>,
    page: &PageParams,
) -> AppResult<Page<AuditRow>> {
    who.require_admin()?;
    let limit = page.limit()?;
    let before = page.after_id()?.map(AuditId);
    let keys = state.keys.clone();
    let rows = state
        .db
        .read(move |c| audit::list(c, &keys, before, action.as_deref(), limit + 1))
        .await?;
    Ok(Page::from_rows(rows, limit, |r| r.id.0))
}

/// Where a new instance stands on the way to its first booking, for the
/// admin page's "getting started" steps.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub papers: i64,
    pub researchers: i64,
    pub claimed: i64,
    pub bookable: i64,
    /// Mail is held in the outbox (no `[smtp] host`).
    pub mail_held: bool,
}

pub async fn setup(state: &AppState, who: &Principal) -> AppResult<Setup> {
    who.require_admin()?;
    let (papers, researchers, claimed, bookable) = state
        .db
        .read(crate::db::repos::researchers::setup_counts)
        .await?;
    Ok(Setup {
        papers,
        researchers,
        claimed,
        bookable,
        mail_held: !state.config.smtp.enabled(),
    })
}
