//! Accounts and authentication: registration, log-in (API tokens and web
//! cookie sessions), refresh, log-out, password change, roles, and the
//! one-time setup link for the first admin.

use std::net::IpAddr;

use chrono::Duration;
use serde_json::json;

use crate::crypto::{random_token, token_hash};
use crate::db::repos::auth_sessions::{self, ActiveSession, Kind};
use crate::db::repos::{audit, setup_links, users};
use crate::domain::password::PasswordPolicy;
use crate::domain::{text, Email, Role, SessionId, UserId};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::services::{terms, tokens};
use crate::state::AppState;

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
}

pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// A new web session: the cookie value and the user.
pub struct WebLogin {
    pub cookie_token: String,
    pub user: users::UserRow,
}

fn policy(state: &AppState) -> PasswordPolicy {
    PasswordPolicy {
        min_len: state.config.auth.password_min_length,
        max_len: state.config.auth.password_max_length,
    }
}

fn invalid_credentials() -> AppError {
    AppError::unauthorized("The e-mail address or the password is wrong.")
}

/// Validates a registration; the terms must be accepted.
fn validate(state: &AppState, r: &Registration, require_terms: bool) -> AppResult<(Email, String)> {
    let mut errs = FieldErrors::new();
    let email = errs.check("email", Email::parse(&r.email));
    let name = errs.check("name", text::line(&r.name, 200));
    if let Err(m) = policy(state).check(&r.password, email.as_ref()) {
        errs.add("password", m);
    }
    if require_terms && !r.accept_terms {
        errs.add(
            "accept_terms",
            format!(
                "you must accept the terms (version {})",
                terms::TERMS_VERSION
            ),
        );
    }
    errs.into_result()?;
    Ok((
        email.ok_or_else(|| AppError::internal("email"))?,
        name.unwrap_or_default(),
    ))
}

fn event<'a>(
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

/// Creates a user account (role `user`) and records the accepted terms.
pub async fn register(
    state: &AppState,
    r: Registration,
    ip: Option<IpAddr>,
) -> AppResult<users::UserRow> {
    let (email, name) = validate(state, &r, true)?;
    create_user(
        state,
        email,
        name,
        &r.password,
        Role::User,
        Some(terms::TERMS_VERSION),
        None,
        ip,
        "auth.register",
    )
    .await
}

/// Creates an account with any role (CLI, setup link, admin).
#[allow(clippy::too_many_arguments)]
async fn create_user(
    state: &AppState,
    email: Email,
    name: String,
    password: &str,
    role: Role,
    terms_version: Option<&'static str>,
    actor: Option<UserId>,
    ip: Option<IpAddr>,
    action: &'static str,
) -> AppResult<users::UserRow> {
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
                    email: &email,
                    name: &name,
                    role,
                    password_hash: &hash,
                    terms_version,
                },
                now,
            )?;
            audit::append(
                tx,
                &keys,
                event(
                    actor.or(Some(id)),
                    action,
                    Some(format!("user:{id}")),
                    json!({"role": role.as_str(), "terms_version": terms_version}),
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
    };
    let (email, name) = validate(state, &r, false)?;
    create_user(
        state,
        email,
        name,
        password,
        role,
        None,
        None,
        None,
        "user.created_by_cli",
    )
    .await
}

pub async fn get_user(state: &AppState, id: UserId) -> AppResult<users::UserRow> {
    let keys = state.keys.clone();
    state
        .db
        .read(move |c| users::find(c, &keys, id))
        .await?
        .ok_or(AppError::NotFound)
}

/// Checks the credentials (rate limited per IP and account) and opens a session.
async fn authenticate(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<IpAddr>,
    kind: Kind,
) -> AppResult<(users::UserRow, SessionId, String)> {
    let parsed = Email::parse(email).ok();
    let account_key = parsed
        .as_ref()
        .map(|e| users::email_index(&state.keys, e))
        .unwrap_or_else(|| format!("invalid:{}", email.len()));
    state.login_limits.check(ip, &account_key)?;
    let user = match &parsed {
        Some(e) => {
            let keys = state.keys.clone();
            let e = e.clone();
            state
                .db
                .read(move |c| users::find_by_email(c, &keys, &e))
                .await?
        }
        None => None,
    };
    let user = user.filter(|u| !u.disabled);
    let ok = state
        .passwords
        .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
        .await?;
    let now = state.now();
    let keys = state.keys.clone();
    let Some(user) = user.filter(|_| ok) else {
        state.login_limits.record_failure(ip, &account_key);
        state.metrics.login(false);
        state
            .db
            .write(move |tx| {
                audit::append(
                    tx,
                    &keys,
                    event(None, "auth.login_failed", None, json!({}), ip),
                    now,
                )
            })
            .await?;
        return Err(invalid_credentials());
    };
    state.login_limits.record_success(&account_key);
    state.metrics.login(true);
    let token = random_token(32);
    let hash = token_hash(&token);
    let ttl = match kind {
        Kind::Api => state.config.auth.refresh_token_ttl_secs,
        Kind::Web => state.config.auth.web_session_ttl_secs,
    };
    let user_id = user.id;
    let claimer = user.clone();
    let sid = state
        .db
        .write(move |tx| {
            // A researcher profile registered under this address is linked
            // now that the account has proved it is theirs.
            crate::services::outreach::claim_pending(tx, &keys, &claimer, now)?;
            let sid =
                auth_sessions::create(tx, user_id, kind, &hash, now, now + Duration::seconds(ttl))?;
            let via = if kind == Kind::Api { "api" } else { "web" };
            audit::append(
                tx,
                &keys,
                event(
                    Some(user_id),
                    "auth.login",
                    Some(format!("user:{user_id}")),
                    json!({"via": via}),
                    ip,
                ),
                now,
            )?;
            Ok(sid)
        })
        .await?;
    Ok((user, sid, token))
}

pub async fn login_api(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> AppResult<TokenPair> {
    let (user, sid, refresh) = authenticate(state, email, password, ip, Kind::Api).await?;
    token_pair(state, user.id, sid, user.role, refresh)
}

pub async fn login_web(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> AppResult<WebLogin> {
    let (user, _, cookie_token) = authenticate(state, email, password, ip, Kind::Web).await?;
    Ok(WebLogin { cookie_token, user })
}

fn token_pair(
    state: &AppState,
    user: UserId,
    sid: SessionId,
    role: Role,
    refresh_token: String,
) -> AppResult<TokenPair> {
    let ttl = state.config.auth.access_token_ttl_secs;
    Ok(TokenPair {
        access_token: tokens::issue_access(&state.keys, user, sid, role, state.now(), ttl)?,
        refresh_token,
        expires_in: ttl,
    })
}

/// Exchanges a refresh token for a new pair (the old refresh token stops
/// working). Presenting an already rotated token revokes the session.
pub async fn refresh(
    state: &AppState,
    refresh_token: &str,
    ip: Option<IpAddr>,
) -> AppResult<TokenPair> {
    let hash = token_hash(refresh_token);
    let now = state.now();
    let h = hash.clone();
    let found = state
        .db
        .read(move |c| auth_sessions::find_active_by_token(c, &h, Kind::Api, now))
        .await?;
    let Some(session) = found else {
        let keys = state.keys.clone();
        let revoked = state
            .db
            .write(move |tx| {
                let Some(sid) = auth_sessions::find_by_previous_token(tx, &hash)? else {
                    return Ok(None);
                };
                auth_sessions::revoke(tx, sid, now)?;
                audit::append(
                    tx,
                    &keys,
                    event(
                        None,
                        "auth.refresh_reuse",
                        Some(format!("session:{sid}")),
                        json!({}),
                        ip,
                    ),
                    now,
                )?;
                Ok(Some(sid))
            })
            .await?;
        if let Some(sid) = revoked {
            state.cache.sessions.invalidate(&sid).await;
            tracing::warn!(session_id = %sid, "a rotated refresh token was replayed; session revoked");
        }
        return Err(AppError::unauthorized(
            "The refresh token is invalid, expired or revoked.",
        ));
    };
    let new_token = random_token(32);
    let new_hash = token_hash(&new_token);
    let sid = session.id;
    let rotated = state
        .db
        .write(move |tx| auth_sessions::rotate(tx, sid, &hash, &new_hash, now))
        .await?;
    if !rotated {
        return Err(AppError::unauthorized(
            "The refresh token is invalid, expired or revoked.",
        ));
    }
    token_pair(state, session.user_id, session.id, session.role, new_token)
}

/// Revokes the session a refresh token belongs to.
pub async fn logout_api(
    state: &AppState,
    refresh_token: &str,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    let hash = token_hash(refresh_token);
    let now = state.now();
    let h = hash.clone();
    let session = state
        .db
        .read(move |c| auth_sessions::find_active_by_token(c, &h, Kind::Api, now))
        .await?;
    match session {
        Some(s) => revoke_session(state, &s, ip).await,
        None => Err(AppError::unauthorized(
            "The refresh token is invalid, expired or revoked.",
        )),
    }
}

pub async fn revoke_session(
    state: &AppState,
    s: &ActiveSession,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    let (sid, user) = (s.id, s.user_id);
    let keys = state.keys.clone();
    let now = state.now();
    state
        .db
        .write(move |tx| {
            auth_sessions::revoke(tx, sid, now)?;
            audit::append(
                tx,
                &keys,
                event(
                    Some(user),
                    "auth.logout",
                    Some(format!("user:{user}")),
                    json!({}),
                    ip,
                ),
                now,
            )?;
            Ok(())
        })
        .await?;
    state.cache.sessions.invalidate(&sid).await;
    Ok(())
}

/// Changes the password after checking the current one; every other session
/// of the user is revoked.
pub async fn change_password(
    state: &AppState,
    who: &Principal,
    current: &str,
    new: &str,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    let user = get_user(state, who.user_id).await?;
    if !state
        .passwords
        .verify(current, Some(&user.password_hash))
        .await?
    {
        return Err(AppError::field("current_password", "is wrong"));
    }
    let email = Email::parse(&user.email).ok();
    policy(state)
        .check(new, email.as_ref())
        .map_err(|m| AppError::field("new_password", m))?;
    if current == new {
        return Err(AppError::field(
            "new_password",
            "must differ from the current password",
        ));
    }
    let hash = state.passwords.hash(new).await?;
    let (uid, keep) = (who.user_id, who.session_id);
    let keys = state.keys.clone();
    let now = state.now();
    let revoked = state
        .db
        .write(move |tx| {
            users::update_password(tx, uid, &hash, now)?;
            let revoked = auth_sessions::revoke_all_except(tx, uid, Some(keep), now)?;
            audit::append(
                tx,
                &keys,
                event(
                    Some(uid),
                    "auth.password_changed",
                    Some(format!("user:{uid}")),
                    json!({"sessions_revoked": revoked.len()}),
                    ip,
                ),
                now,
            )?;
            Ok(revoked)
        })
        .await?;
    for sid in revoked {
        state.cache.sessions.invalidate(&sid).await;
    }
    Ok(())
}

/// Resolves a bearer access token to its principal; the session must still
/// be active (logged-out and revoked sessions stop working at once).
pub async fn authenticate_bearer(state: &AppState, token: &str) -> AppResult<Principal> {
    let now = state.now();
    let claims = tokens::verify_access(&state.keys, token, now)?;
    let sid = SessionId(claims.sid);
    let db = state.db.clone();
    let session = state
        .cache
        .sessions
        .try_get_with(sid, async move {
            db.read(move |c| auth_sessions::find_active(c, sid, Kind::Api, now))
                .await
        })
        .await
        .map_err(|e| AppError::internal(e.to_string()))?;
    match session {
        Some(s) if s.user_id.0 == claims.sub => Ok(Principal {
            user_id: s.user_id,
            role: s.role,
            session_id: s.id,
        }),
        _ => Err(AppError::unauthorized(
            "The session has ended; log in again.",
        )),
    }
}

/// Resolves a web session cookie.
pub async fn authenticate_cookie(
    state: &AppState,
    cookie_token: &str,
) -> AppResult<Option<ActiveSession>> {
    let hash = token_hash(cookie_token);
    let now = state.now();
    state
        .db
        .read(move |c| auth_sessions::find_active_by_token(c, &hash, Kind::Web, now))
        .await
}

/// Changes a user's role (admins only); recorded in the audit trail.
pub async fn set_role(
    state: &AppState,
    admin: &Principal,
    target: UserId,
    role: Role,
    ip: Option<IpAddr>,
) -> AppResult<users::UserRow> {
    if !admin.is_admin() {
        return Err(AppError::Forbidden);
    }
    if target == admin.user_id && role != Role::Admin {
        return Err(AppError::conflict(
            "last_admin",
            "You cannot remove your own admin role.",
        ));
    }
    let keys = state.keys.clone();
    let now = state.now();
    let actor = admin.user_id;
    let changed = state
        .db
        .write(move |tx| {
            let Some(before) = users::find(tx, &keys, target)? else {
                return Ok(None);
            };
            if before.role == role {
                return Ok(Some(Vec::new()));
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
            // Roles are read with the session, so the change applies at once
            // once the cached sessions are dropped.
            auth_sessions::active_ids_for_user(tx, target, now).map(Some)
        })
        .await?
        .ok_or(AppError::NotFound)?;
    for sid in changed {
        state.cache.sessions.invalidate(&sid).await;
    }
    get_user(state, target).await
}

/// While no admin exists, makes a one-time setup link and returns its URL.
pub async fn ensure_setup_link(state: &AppState) -> AppResult<Option<String>> {
    if state.db.read(users::admin_exists).await? {
        return Ok(None);
    }
    let token = random_token(32);
    let hash = token_hash(&token);
    let now = state.now();
    let ttl = state.config.auth.setup_link_ttl_secs;
    state
        .db
        .write(move |tx| setup_links::create(tx, &hash, now, now + Duration::seconds(ttl)))
        .await?;
    Ok(Some(format!("{}/setup/{token}", state.config.public_url())))
}

pub async fn setup_link_valid(state: &AppState, token: &str) -> AppResult<bool> {
    let hash = token_hash(token);
    let now = state.now();
    state
        .db
        .read(move |c| Ok(!users::admin_exists(c)? && setup_links::is_valid(c, &hash, now)?))
        .await
}

/// Creates the first admin through a setup link; the link works once.
pub async fn complete_setup(
    state: &AppState,
    token: &str,
    r: Registration,
    ip: Option<IpAddr>,
) -> AppResult<users::UserRow> {
    let (email, name) = validate(state, &r, true)?;
    let hash = state.passwords.hash(&r.password).await?;
    let link = token_hash(token);
    let keys = state.keys.clone();
    let now = state.now();
    let id = state
        .db
        .write(move |tx| {
            // Links stop working as soon as any admin exists.
            if users::admin_exists(tx)? || !setup_links::consume(tx, &link, now)? {
                return Err(AppError::conflict(
                    "setup_link_invalid",
                    "This setup link is expired or was already used, or an admin exists already.",
                ));
            }
            let new = users::NewUser {
                email: &email,
                name: &name,
                role: Role::Admin,
                password_hash: &hash,
                terms_version: Some(terms::TERMS_VERSION),
            };
            let id = users::insert(tx, &keys, &new, now)?;
            audit::append(
                tx,
                &keys,
                event(
                    Some(id),
                    "auth.setup_admin",
                    Some(format!("user:{id}")),
                    json!({}),
                    ip,
                ),
                now,
            )?;
            Ok(id)
        })
        .await?;
    get_user(state, id).await
}
