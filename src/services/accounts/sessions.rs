//! Log-in sessions: API tokens and web cookies, refresh, log-out, password
//! change, and resolving a request's credentials to a principal.

use std::net::IpAddr;

use chrono::Duration;
use serde_json::json;

use super::*;
use crate::crypto::{random_token, token_hash};
use crate::db::repos::auth_sessions::{self, ActiveSession, Kind};
use crate::db::repos::{audit, users};
use crate::domain::{Email, Role, SessionId, UserId};
use crate::error::{AppError, AppResult};
use crate::services::{engagement, tokens};
use crate::state::AppState;

/// Checks the credentials (rate limited per IP and account) and opens a
/// session; a success counts as a sign-in for engagement.
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
    // A deleted account has no usable password; the dummy hash keeps the
    // timing of an unknown address. A disabled one is checked as usual.
    let user = user.filter(|u| !u.deleted);
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
    if user.disabled {
        return Err(refuse_disabled(state, &user, ip, &account_key).await?);
    }
    state.login_limits.record_success(&account_key);
    state.metrics.login(true);
    let token = random_token(32);
    let hash = token_hash(&token);
    let ttl = match kind {
        Kind::Api => state.config.auth.refresh_token_ttl_secs,
        Kind::Web => state.config.auth.web_session_ttl_secs,
    };
    let user_id = user.id;
    let sid = state
        .db
        .write(move |tx| {
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
    engagement::record_sign_in(state);
    engagement::record_active(state, user_id);
    Ok((user, sid, token))
}

/// The right password for a disabled account: counted as a failure (so it
/// is rate limited like any guess), audited, and answered with a clear
/// "disabled". Only someone who knows the password learns the account is
/// disabled; a wrong password gets the same answer as an unknown address.
async fn refuse_disabled(
    state: &AppState,
    user: &users::UserRow,
    ip: Option<IpAddr>,
    account_key: &str,
) -> AppResult<AppError> {
    state.login_limits.record_failure(ip, account_key);
    state.metrics.login(false);
    let (keys, now, id) = (state.keys.clone(), state.now(), user.id);
    state
        .db
        .write(move |tx| {
            let ev = event(
                None,
                "auth.login_disabled",
                Some(format!("user:{id}")),
                json!({}),
                ip,
            );
            audit::append(tx, &keys, ev, now)
        })
        .await?;
    Ok(AppError::refused(
        "account_disabled",
        format!(
            "This account is disabled, so it cannot sign in. If you think this is a mistake, write to {}.",
            state.config.institution.contact_email
        ),
    ))
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
    Ok(WebLogin {
        cookie_token,
        user: user.into(),
    })
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
        Some(s) => revoke_session(state, &principal_of(s), ip).await,
        None => Err(AppError::unauthorized(
            "The refresh token is invalid, expired or revoked.",
        )),
    }
}

/// A request's principal and the documents its account still has to
/// accept (`terms`, `privacy_notice`, each with its current version).
pub struct Resolved {
    pub principal: Principal,
    pub pending: Vec<(&'static str, String)>,
}

impl Resolved {
    fn of(state: &AppState, s: ActiveSession) -> Self {
        let pending = crate::services::terms::pending(
            &state.config.institution,
            s.terms_version.as_deref(),
            s.privacy_version.as_deref(),
        );
        Self {
            principal: principal_of(s),
            pending,
        }
    }

    /// `terms_not_accepted` while a document is pending.
    pub fn require_terms(&self) -> AppResult<()> {
        if self.pending.is_empty() {
            Ok(())
        } else {
            Err(AppError::TermsNotAccepted {
                pending: self.pending.clone(),
            })
        }
    }
}

fn principal_of(s: ActiveSession) -> Principal {
    Principal {
        user_id: s.user_id,
        role: s.role,
        session_id: s.id,
    }
}

/// Ends the caller's session (log-out).
pub async fn revoke_session(
    state: &AppState,
    who: &Principal,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    let (sid, user) = (who.session_id, who.user_id);
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
    let mut errs = crate::error::FieldErrors::new();
    if !state
        .passwords
        .verify(current, Some(&user.password_hash))
        .await?
    {
        errs.add("current_password", "is wrong");
    }
    let email = Email::parse(&user.email).ok();
    errs.check("new_password", policy(state).check(new, email.as_ref()));
    if current == new {
        errs.add("new_password", "must differ from the current password");
    }
    errs.into_result()?;
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
/// be active (logged-out and revoked sessions stop working at once). The
/// account counts as active today (engagement).
pub async fn authenticate_bearer(state: &AppState, token: &str) -> AppResult<Principal> {
    Ok(resolve_bearer(state, token).await?.principal)
}

/// `authenticate_bearer`, with what the account still has to accept.
pub async fn resolve_bearer(state: &AppState, token: &str) -> AppResult<Resolved> {
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
        Some(s) if s.user_id.0 == claims.sub => {
            engagement::record_active(state, s.user_id);
            Ok(Resolved::of(state, s))
        }
        _ => Err(AppError::unauthorized(
            "The session has ended; log in again.",
        )),
    }
}

/// Resolves a web session cookie to its principal, which counts as active
/// today (engagement).
pub async fn authenticate_cookie(
    state: &AppState,
    cookie_token: &str,
) -> AppResult<Option<Principal>> {
    Ok(resolve_cookie(state, cookie_token)
        .await?
        .map(|r| r.principal))
}

/// `authenticate_cookie`, with what the account still has to accept.
pub async fn resolve_cookie(state: &AppState, cookie_token: &str) -> AppResult<Option<Resolved>> {
    let hash = token_hash(cookie_token);
    let now = state.now();
    let found = state
        .db
        .read(move |c| auth_sessions::find_active_by_token(c, &hash, Kind::Web, now))
        .await?;
    if let Some(s) = &found {
        engagement::record_active(state, s.user_id);
    }
    Ok(found.map(|s| Resolved::of(state, s)))
}
