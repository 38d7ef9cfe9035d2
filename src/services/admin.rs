//! What admins read: every account, and the audit trail.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::repos::audit::{self, AuditRow};
use crate::db::repos::users;
use crate::domain::{AuditId, PaperId, ResearcherId, UserId};
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
    /// The actor's account name now (a "Former user …" pseudonym once
    /// erased).
    pub actor_name: Option<String>,
    pub action: String,
    /// `kind:id`, e.g. `user:5`, `paper:3`, `researcher:7`, `session:2`.
    pub target: Option<String>,
    /// The target's name now, for accounts, profiles and papers.
    pub target_name: Option<String>,
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
            actor_name: None,
            action: r.action,
            target: r.target,
            target_name: None,
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

/// One account as its admin page shows it, with the profile it owns.
pub async fn user(
    state: &AppState,
    who: &Principal,
    id: UserId,
) -> AppResult<(Account, Option<crate::domain::ResearcherId>)> {
    who.require_admin()?;
    let account = crate::services::accounts::account(state, id).await?;
    let profile = crate::services::accounts::claimed_profile(state, id).await?;
    Ok((account, profile))
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
    let mut rows: Vec<AuditEntry> = rows.into_iter().map(AuditEntry::from).collect();
    name_audit(state, &mut rows).await?;
    Ok(Page::from_rows(rows, limit, |r| r.id))
}

/// A target's kind and number: `("paper", 3)` for `paper:3`.
pub fn target_parts(target: &str) -> Option<(&str, i64)> {
    let (kind, id) = target.split_once(':')?;
    Some((kind, id.parse().ok()?))
}

/// Fills in the names of actors and of account, profile and paper targets.
async fn name_audit(state: &AppState, rows: &mut [AuditEntry]) -> AppResult<()> {
    let mut people: Vec<UserId> = rows.iter().filter_map(|r| r.actor_user_id).collect();
    let (mut profiles, mut papers) = (Vec::new(), Vec::new());
    for (kind, id) in rows
        .iter()
        .filter_map(|r| r.target.as_deref().and_then(target_parts))
    {
        match kind {
            "user" => people.push(UserId(id)),
            "researcher" => profiles.push(ResearcherId(id)),
            "paper" => papers.push(PaperId(id)),
            _ => {}
        }
    }
    let (people, profiles, papers) = state
        .db
        .read(move |c| {
            Ok((
                users::names(c, &people)?,
                crate::db::repos::researchers::names(c, &profiles)?,
                crate::db::repos::papers::titles(c, &papers)?,
            ))
        })
        .await?;
    for r in rows {
        r.actor_name = r.actor_user_id.and_then(|a| people.get(&a).cloned());
        r.target_name = match r.target.as_deref().and_then(target_parts) {
            Some(("user", id)) => people.get(&UserId(id)).cloned(),
            Some(("researcher", id)) => profiles.get(&ResearcherId(id)).cloned(),
            Some(("paper", id)) => papers.get(&PaperId(id)).cloned(),
            _ => None,
        };
    }
    Ok(())
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
