//! What admins read: every account, and the audit trail.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::repos::audit::{self, AuditRow};
use crate::db::repos::users;
use crate::domain::{AuditId, UserId};
use crate::error::AppResult;
use crate::pagination::{Page, PageParams};
use crate::services::accounts::Account;
use crate::services::accounts::Principal;
use crate::state::AppState;

/// One entry of the audit trail as admins read it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: AuditId,
    pub at: String,
    pub actor_user_id: Option<UserId>,
    pub action: String,
    pub target: Option<String>,
    pub detail: serde_json::Value,
    /// The client's IP (stored encrypted).
    pub ip: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id,
            at: r.at,
            actor_user_id: r.actor_user_id,
            action: r.action,
            target: r.target,
            detail: r.detail,
            ip: r.ip,
        }
    }
}

/// Accounts in id order.
pub async fn list_users(
    state: &AppState,
    who: &Principal,
    page: &PageParams,
) -> AppResult<Page<Account>> {
    who.require_admin()?;
    let limit = page.limit()?;
    let after = page.after_id()?;
    let keys = state.keys.clone();
    let rows = state
        .db
        .read(move |c| users::list(c, &keys, after, limit + 1))
        .await?;
    let rows: Vec<Account> = rows.into_iter().map(Account::from).collect();
    Ok(Page::from_rows(rows, limit, |u| u.id))
}

/// Accounts for the admins' picker: the one with this exact e-mail
/// address, or those whose name contains the text (at most 20).
pub async fn find_accounts(
    state: &AppState,
    who: &Principal,
    text: &str,
) -> AppResult<Vec<Account>> {
    who.require_admin()?;
    let text = text.trim().to_string();
    if text.chars().count() > 200 {
        return Err(crate::error::AppError::field(
            "q",
            "must be at most 200 characters",
        ));
    }
    let keys = state.keys.clone();
    let rows = state
        .db
        .read(move |c| match crate::domain::Email::parse(&text) {
            Ok(email) => Ok(users::find_by_email(c, &keys, &email)?
                .into_iter()
                .collect()),
            Err(_) => users::search_by_name(c, &keys, &text, 20),
        })
        .await?;
    Ok(rows.into_iter().map(Account::from).collect())
}

/// Audit events, newest first, optionally of one action.
pub async fn list_audit(
    state: &AppState,
    who: &Principal,
    action: Option<String>,
    page: &PageParams,
) -> AppResult<Page<AuditEntry>> {
    who.require_admin()?;
    let limit = page.limit()?;
    let before = page.after_id()?;
    let keys = state.keys.clone();
    let rows = state
        .db
        .read(move |c| audit::list(c, &keys, before, action.as_deref(), limit + 1))
        .await?;
    let rows: Vec<AuditEntry> = rows.into_iter().map(AuditEntry::from).collect();
    Ok(Page::from_rows(rows, limit, |r| r.id))
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
