//! Who owns a researcher profile, and how that changes: "This is me" for an
//! account whose verified address is the profile's, a request an admin
//! decides for anyone else, and the admins' own audited actions (set the
//! e-mail by hand, link an account, merge two profiles).

use std::net::IpAddr;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::db::repos::claims::{self as repo, ClaimRequestRow};
use crate::db::repos::{audit, researchers, users};
use crate::domain::{text, ClaimRequestId, ClaimStatus, Email, ResearcherId, Role, UserId};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, Principal};
use crate::services::terms;
use crate::state::AppState;

mod admin;
mod merges;

pub use admin::*;
pub use merges::*;

/// Open claim requests one account may have at once.
const MAX_OPEN_REQUESTS: i64 = 3;

fn event(
    actor: UserId,
    action: &str,
    rid: ResearcherId,
    detail: serde_json::Value,
    ip: Option<IpAddr>,
) -> audit::NewEvent<'_> {
    audit::NewEvent {
        actor: Some(actor),
        action,
        target: Some(format!("researcher:{rid}")),
        detail,
        ip,
    }
}

/// What the researcher page offers a signed-in viewer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimOptions {
    /// The viewer's verified address is the profile's: "This is me".
    pub can_claim: bool,
    /// The viewer may ask an admin (not the owner, no open request yet).
    pub can_request: bool,
    /// The viewer asked already and waits for an admin.
    pub request_open: bool,
}

pub async fn options(
    state: &AppState,
    who: &Principal,
    rid: ResearcherId,
) -> AppResult<ClaimOptions> {
    let (keys, uid) = (state.keys.clone(), who.user_id);
    state
        .db
        .read(move |c| {
            let Some(owner) = researchers::owner(c, rid)? else {
                return Err(AppError::NotFound);
            };
            if owner == Some(uid) || researchers::by_user(c, uid)?.is_some() {
                return Ok(ClaimOptions::default());
            }
            let open = repo::open_request_of(c, rid, uid)?.is_some();
            let account = users::find(c, &keys, uid)?.ok_or(AppError::NotFound)?;
            let can_claim = owner.is_none()
                && account.role != Role::Admin
                && same_verified_address(c, &keys, &account, rid)?;
            Ok(ClaimOptions {
                can_claim,
                can_request: !can_claim && !open && account.role != Role::Admin,
                request_open: open,
            })
        })
        .await
}

/// The account's address is verified and is the profile's e-mail.
fn same_verified_address(
    c: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    account: &users::UserRow,
    rid: ResearcherId,
) -> AppResult<bool> {
    if !account.email_verified {
        return Ok(false);
    }
    let Ok(email) = Email::parse(&account.email) else {
        return Ok(false);
    };
    let mine = users::email_index(keys, &email);
    Ok(researchers::email_bidx(c, rid)?
        .is_some_and(|b| crate::crypto::constant_time_eq(b.as_bytes(), mine.as_bytes())))
}

/// "This is me": claims an unowned profile whose e-mail is the caller's
/// verified address, in one step.
pub async fn self_claim(
    state: &AppState,
    who: &Principal,
    rid: ResearcherId,
    accept_terms: bool,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    terms::check_accepted(&state.config.institution, accept_terms)
        .map_err(|m| AppError::field("accept_terms", m))?;
    let (keys, now, uid) = (state.keys.clone(), state.now(), who.user_id);
    let terms_version = state.config.institution.terms_version.clone();
    state
        .db
        .write(move |tx| {
            let owner = researchers::owner(tx, rid)?.ok_or(AppError::NotFound)?;
            if owner.is_some() {
                return Err(already_claimed());
            }
            let account = users::find(tx, &keys, uid)?.ok_or(AppError::NotFound)?;
            if account.role == Role::Admin {
                return Err(AppError::conflict(
                    "admin_account",
                    "Admins link profiles on the admin page.",
                ));
            }
            if researchers::by_user(tx, uid)?.is_some() {
                return Err(already_linked());
            }
            if !same_verified_address(tx, &keys, &account, rid)? {
                return Err(AppError::refused(
                    "address_mismatch",
                    "Only an account whose confirmed e-mail address is this profile's can claim it directly. Ask an admin instead.",
                ));
            }
            researchers::claim(tx, rid, uid, now)?;
            researchers::set_listing_consent(tx, rid, &terms_version, account.timezone.as_deref(), now)?;
            crate::db::repos::consents::grant_listing(tx, uid, &terms_version, crate::domain::ConsentSource::Claim, now)?;
            users::promote_to_researcher(tx, uid, now)?;
            audit::append(tx, &keys, event(uid, "researcher.claimed", rid, json!({"via": "verified_address"}), ip), now)?;
            Ok(())
        })
        .await?;
    accounts::forget_role(state, uid).await
}

fn already_claimed() -> AppError {
    AppError::conflict(
        "already_claimed",
        "This profile belongs to an account already. Only an admin can change that.",
    )
}

/// The account owns another profile already (one profile per account).
pub(crate) fn already_linked() -> AppError {
    AppError::conflict(
        "already_linked",
        "This account has a researcher profile already.",
    )
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimRequestView {
    pub id: ClaimRequestId,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub user_id: UserId,
    /// Admins only: who asks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_email: Option<String>,
    /// Admins only: whether the requester's address is confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_email_verified: Option<bool>,
    pub message: Option<String>,
    pub status: ClaimStatus,
    pub created_at: String,
    pub decided_at: Option<String>,
}

/// A request as its requester (`for_admin` false) or an admin sees it.
fn request_view(r: ClaimRequestRow, for_admin: bool) -> ClaimRequestView {
    let requester = Some(r.requester).filter(|_| for_admin);
    ClaimRequestView {
        id: r.id,
        researcher_id: r.researcher_id,
        researcher_name: r.researcher_name,
        user_id: r.user_id,
        user_email_verified: requester.as_ref().map(|u| u.email_verified),
        user_name: requester.as_ref().map(|u| u.name.clone()),
        user_email: requester.map(|u| u.email),
        message: r.message,
        status: r.status,
        created_at: r.created_at,
        decided_at: r.decided_at,
    }
}

/// Asks an admin to give the caller this profile.
pub async fn request_claim(
    state: &AppState,
    who: &Principal,
    rid: ResearcherId,
    message: Option<String>,
    ip: Option<IpAddr>,
) -> AppResult<ClaimRequestView> {
    let message = text::optional_block(message.as_deref(), 2000)
        .map_err(|m| AppError::field("message", m))?;
    let (keys, now, uid) = (state.keys.clone(), state.now(), who.user_id);
    let row = state
        .db
        .write(move |tx| {
            let owner = researchers::owner(tx, rid)?.ok_or(AppError::NotFound)?;
            if owner == Some(uid) {
                return Err(AppError::conflict("yours", "This profile is yours already."));
            }
            if researchers::by_user(tx, uid)?.is_some() {
                return Err(already_linked());
            }
            if repo::open_count_of(tx, uid)? >= MAX_OPEN_REQUESTS {
                return Err(AppError::conflict(
                    "too_many_requests",
                    "You have several claim requests waiting already; an admin will answer them first.",
                ));
            }
            let id = repo::insert_request(tx, &keys, rid, uid, message.as_deref(), now)?;
            audit::append(tx, &keys, event(uid, "researcher.claim_requested", rid, json!({"request_id": id}), ip), now)?;
            repo::find_request(tx, &keys, id)?.ok_or(AppError::NotFound)
        })
        .await?;
    Ok(request_view(row, false))
}

/// Claim requests with a status (as given in the query string; open by
/// default), newest first (admins).
pub async fn list_requests(
    state: &AppState,
    admin: &Principal,
    status: Option<String>,
) -> AppResult<Vec<ClaimRequestView>> {
    admin.require_admin()?;
    let status = match status.as_deref() {
        None => ClaimStatus::Open,
        Some(s) => s
            .parse()
            .map_err(|_| AppError::field("status", "must be open, approved or refused"))?,
    };
    let keys = state.keys.clone();
    state
        .db
        .read(move |c| repo::list_requests(c, &keys, status, 200))
        .await
        .map(|rows| rows.into_iter().map(|r| request_view(r, true)).collect())
}

/// Approves (the requester owns the profile from now on, whoever owned it
/// before) or refuses a claim request; audited either way.
pub async fn decide_request(
    state: &AppState,
    admin: &Principal,
    id: ClaimRequestId,
    approve: bool,
    ip: Option<IpAddr>,
) -> AppResult<ClaimRequestView> {
    admin.require_admin()?;
    let (keys, now, actor) = (state.keys.clone(), state.now(), admin.user_id);
    let row = state
        .db
        .write(move |tx| {
            let mut r = repo::find_request(tx, &keys, id)?.ok_or(AppError::NotFound)?;
            let status = if approve {
                ClaimStatus::Approved
            } else {
                ClaimStatus::Refused
            };
            if !repo::decide_request(tx, id, status, actor, now)? {
                return Err(AppError::conflict(
                    "already_decided",
                    "This request was decided already.",
                ));
            }
            let mut detail = json!({"request_id": id, "user_id": r.user_id});
            if approve {
                let previous = give_profile(tx, r.researcher_id, r.user_id, now)?;
                detail["previous_owner"] = json!(previous);
            }
            let action = if approve {
                "researcher.claim_approved"
            } else {
                "researcher.claim_refused"
            };
            audit::append(
                tx,
                &keys,
                event(actor, action, r.researcher_id, detail, ip),
                now,
            )?;
            r.status = status;
            r.decided_at = Some(crate::db::ts(now));
            Ok(r)
        })
        .await?;
    accounts::forget_role(state, row.user_id).await?;
    Ok(request_view(row, true))
}

/// Gives a profile to an account (admin decisions): the account must not
/// own another profile; it becomes a researcher unless it is an admin.
fn give_profile(
    tx: &rusqlite::Connection,
    rid: ResearcherId,
    user: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<UserId>> {
    let owner = researchers::owner(tx, rid)?.ok_or(AppError::NotFound)?;
    if owner == Some(user) {
        return Ok(owner);
    }
    users::find_role(tx, user)?.ok_or_else(|| AppError::field("user_id", "no such account"))?;
    if researchers::by_user(tx, user)?.is_some() {
        return Err(already_linked());
    }
    researchers::set_owner(tx, rid, user, now)?;
    users::promote_to_researcher(tx, user, now)?;
    Ok(owner)
}
