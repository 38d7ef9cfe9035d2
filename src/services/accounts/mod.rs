//! Accounts and authentication: registration, log-in (API tokens and web
//! cookie sessions), refresh, log-out, password change, roles, and the
//! one-time setup link for the first admin.

use std::net::IpAddr;

use serde_json::json;

use crate::db::repos::auth_sessions;
use crate::db::repos::booking_settings;
use crate::db::repos::{audit, users};
use crate::domain::password::PasswordPolicy;
use crate::domain::zone::{self, Tz};
use crate::domain::{text, Email, ResearcherId, Role, SessionId, UserId};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::services::terms;
use crate::state::AppState;

pub mod reauth;
mod removal;
mod sessions;
mod setup;
mod view;

pub(crate) use removal::check_target;
pub use removal::{disable, enable};
pub use sessions::*;
pub use setup::*;
pub use view::{Account, AccountStatus};

/// Who is making a request.
#[derive(Debug, Clone, Copy)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
    pub session_id: SessionId,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role.is_admin()
    }

    /// `Forbidden` unless the caller is an admin.
    pub fn require_admin(&self) -> AppResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

pub struct Registration {
    pub email: String,
    pub password: String,
    pub name: String,
    pub accept_terms: bool,
    /// The IANA zone the person picked; `None` or blank: UTC.
    pub timezone: Option<String>,
}

/// A registration that passed `validate`.
pub struct Valid {
    pub email: Email,
    pub name: String,
    /// The account's zone, for every time it is shown.
    pub zone: Tz,
}

pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// A new web session: the cookie value and the user.
pub struct WebLogin {
    pub cookie_token: String,
    pub user: Account,
}

pub(super) fn policy(state: &AppState) -> PasswordPolicy {
    PasswordPolicy {
        min_len: state.config.auth.password_min_length,
        max_len: state.config.auth.password_max_length,
    }
}

pub(super) fn invalid_credentials() -> AppError {
    AppError::unauthorized("The e-mail address or the password is wrong.")
}

/// Validates a registration; the terms must be accepted.
pub fn validate(state: &AppState, r: &Registration, require_terms: bool) -> AppResult<Valid> {
    let mut errs = FieldErrors::new();
    let email = errs.check("email", Email::parse(&r.email));
    let name = errs.check("name", text::line(&r.name, 200));
    if let Err(m) = policy(state).check(&r.password, email.as_ref()) {
        errs.add("password", m);
    }
    let zone = errs.check("timezone", zone::parse_or_default(r.timezone.as_deref()));
    if require_terms {
        errs.check(
            "accept_terms",
            terms::check_accepted(&state.config.institution, r.accept_terms),
        );
    }
    errs.into_result()?;
    Ok(Valid {
        email: email.ok_or_else(|| AppError::internal("email"))?,
        name: name.unwrap_or_default(),
        zone: zone.unwrap_or(zone::DEFAULT),
    })
}

pub fn event<'a>(
    actor: Option<UserId>,
    action: &'a str,
    target: Option<String>,
    detail: serde_json::Value,
    ip: Option<IpAddr>,
) -> audit::NewEvent<'a> {
    audit::NewEvent {
        actor,
        action,
        target,
        detail,
        ip,
    }
}

/// A self-registered account (role `user`, verification decided by the
/// caller, `services::signup`).
pub async fn create_account(
    state: &AppState,
    v: Valid,
    password: &str,
    ip: Option<IpAddr>,
) -> AppResult<users::UserRow> {
    create_user(state, v, password, Role::User, Origin::SelfRegistered, ip).await
}

/// Who makes an account, which decides what it starts with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The person registered and accepted the current terms; the address
    /// is not proven.
    SelfRegistered,
    /// An operator ran `colloquy user create` and vouches for the address.
    Operator,
}

/// Whether the account may do what needs a verified address.
pub async fn require_verified(state: &AppState, who: &Principal) -> AppResult<()> {
    if !state.config.email_verification_on() {
        return Ok(());
    }
    let id = who.user_id;
    let ok = state
        .db
        .read(move |c| users::is_email_verified(c, id))
        .await?;
    verified_or_refused(ok)
}

/// `require_verified` inside the caller's transaction.
pub fn require_verified_in(
    conn: &rusqlite::Connection,
    state: &AppState,
    who: &Principal,
) -> AppResult<()> {
    if !state.config.email_verification_on() {
        return Ok(());
    }
    verified_or_refused(users::is_email_verified(conn, who.user_id)?)
}

fn verified_or_refused(ok: bool) -> AppResult<()> {
    if ok {
        Ok(())
    } else {
        Err(AppError::refused(
            "email_not_verified",
            "Confirm your e-mail address first: open the link we sent you, or ask for a new one on your account page.",
        ))
    }
}

pub async fn forget_sessions(state: &AppState, ids: Vec<SessionId>) {
    for sid in ids {
        state.cache.sessions.invalidate(&sid).await;
    }
}

/// Creates an account with any role.
async fn create_user(
    state: &AppState,
    v: Valid,
    password: &str,
    role: Role,
    origin: Origin,
    ip: Option<IpAddr>,
) -> AppResult<users::UserRow> {
    let inst = state.config.institution.clone();
    let (self_registered, action) = match origin {
        Origin::SelfRegistered => (true, "auth.register"),
        Origin::Operator => (false, "user.created_by_cli"),
    };
    let hash = state.passwords.hash(password).await?;
    let keys = state.keys.clone();
    let now = state.now();
    let id = state
        .db
        .write(move |tx| {
            let id = users::insert(
                tx,
                &keys,
                &users::NewUser {
                    email: &v.email,
                    name: &v.name,
                    role,
                    password_hash: &hash,
                    accepted: self_registered.then(|| {
                        terms::accepted_now(&inst, crate::domain::ConsentSource::Registration)
                    }),
                    timezone: v.zone.name(),
                },
                now,
            )?;
            if origin == Origin::Operator {
                users::mark_email_verified(tx, id, now)?;
            }
            audit::append(
                tx,
                &keys,
                event(
                    Some(id),
                    action,
                    Some(format!("user:{id}")),
                    json!({"role": role.as_str(), "terms_version": self_registered.then_some(&inst.terms_version)}),
                    ip,
                ),
                now,
            )?;
            Ok(id)
        })
        .await?;
    tracing::info!(user_id = %id, role = role.as_str(), action, "account created");
    get_user(state, id).await
}

/// Creates an account from the command line (`colloquy user create`).
pub async fn create_user_admin_cli(
    state: &AppState,
    email: &str,
    name: &str,
    password: &str,
    role: Role,
) -> AppResult<users::UserRow> {
    let r = Registration {
        email: email.into(),
        password: password.into(),
        name: name.into(),
        accept_terms: true,
        timezone: None,
    };
    let v = validate(state, &r, false)?;
    create_user(state, v, password, role, Origin::Operator, None).await
}

/// The zone an account reads times in (UTC until it picks one).
pub fn zone_of(u: &users::UserRow) -> Tz {
    zone::first_of([u.timezone.as_deref()], zone::DEFAULT)
}

/// The account as the API and pages show it.
pub async fn account(state: &AppState, id: UserId) -> AppResult<Account> {
    get_user(state, id).await.map(Account::from)
}

pub async fn get_user(state: &AppState, id: UserId) -> AppResult<users::UserRow> {
    let keys = state.keys.clone();
    state
        .db
        .read(move |c| users::find(c, &keys, id))
        .await?
        .ok_or(AppError::NotFound)
}

/// The researcher profile an account claimed, if any.
pub async fn claimed_profile(state: &AppState, id: UserId) -> AppResult<Option<ResearcherId>> {
    state
        .db
        .read(move |c| crate::db::repos::researchers::by_user(c, id))
        .await
}

/// Sets the caller's time zone (empty clears it). It is the person's one
/// zone: a researcher's profile, whose weekly times are read in it, follows.
pub async fn set_timezone(
    state: &AppState,
    who: &Principal,
    tz: &str,
) -> AppResult<Option<String>> {
    let tz = match tz.trim() {
        "" => None,
        t => Some(
            zone::parse(t)
                .map_err(|m| AppError::field("timezone", m))?
                .name()
                .to_string(),
        ),
    };
    let (id, now, stored) = (who.user_id, state.now(), tz.clone());
    state
        .db
        .write(move |tx| {
            users::set_timezone(tx, id, stored.as_deref(), now)?;
            match stored {
                Some(z) => booking_settings::set_timezone_of_owner(tx, id, &z, now),
                None => Ok(()),
            }
        })
        .await?;
    Ok(tz)
}

/// Changes a user's role (admins only); recorded in the audit trail.
pub async fn set_role(
    state: &AppState,
    admin: &Principal,
    target: UserId,
    role: Role,
    ip: Option<IpAddr>,
) -> AppResult<Account> {
    if !admin.is_admin() {
        return Err(AppError::Forbidden);
    }
    reauth::require_recent(state, admin).await?;
    if target == admin.user_id && role != Role::Admin {
        return Err(AppError::conflict(
            "last_admin",
            "You cannot remove your own admin role.",
        ));
    }
    let keys = state.keys.clone();
    let now = state.now();
    let actor = admin.user_id;
    state
        .db
        .write(move |tx| {
            let Some(before) = users::find(tx, &keys, target)? else {
                return Ok(None);
            };
            if before.deleted {
                return Err(AppError::conflict(
                    "account_deleted",
                    "This account is deleted; it has no role to change.",
                ));
            }
            if before.role == role {
                return Ok(Some(()));
            }
            users::set_role(tx, target, role, now)?;
            let detail = json!({"from": before.role.as_str(), "to": role.as_str()});
            audit::append(
                tx,
                &keys,
                event(
                    Some(actor),
                    "user.role_changed",
                    Some(format!("user:{target}")),
                    detail,
                    ip,
                ),
                now,
            )?;
            Ok(Some(()))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    forget_role(state, target).await?;
    account(state, target).await
}

/// Roles are read with the session, so a role change applies at once once
/// the user's cached sessions are dropped.
pub async fn forget_role(state: &AppState, user: UserId) -> AppResult<()> {
    let now = state.now();
    let ids = state
        .db
        .read(move |c| auth_sessions::active_ids_for_user(c, user, now))
        .await?;
    forget_sessions(state, ids).await;
    Ok(())
}

/// Active API sessions by id, so bearer checks skip the database; `None`
/// caches "revoked or unknown". Every revocation invalidates its entry.
pub type SessionCache = moka::future::Cache<SessionId, Option<auth_sessions::ActiveSession>>;

/// Session checks must see revocations quickly even if an invalidation
/// were missed, so entries live 30 s at most.
pub fn session_cache(cfg: &crate::config::CacheConfig) -> SessionCache {
    let ttl = std::time::Duration::from_secs(cfg.ttl_secs);
    moka::future::Cache::builder()
        .max_capacity(cfg.max_entries)
        .time_to_live(ttl.min(std::time::Duration::from_secs(30)))
        .build()
}
