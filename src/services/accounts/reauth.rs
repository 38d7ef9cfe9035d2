//! Re-entering the password for sensitive admin actions
//! (`[security] admin_require_reauth_minutes`): refunds, erasures, role
//! changes and key operations call `require_recent` first. The time the
//! password was last entered is kept on the caller's log-in session, so a
//! fresh log-in counts and another device's session does not.

use std::net::IpAddr;

use chrono::Duration;
use serde_json::json;

use super::{event, get_user, Principal};
use crate::db::repos::{audit, auth_sessions, users};
use crate::domain::Email;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The error code a too-old password entry is refused with.
pub const REAUTH_REQUIRED: &str = "reauth_required";

/// Whether `e` asks for the password again (pages answer it with a prompt).
pub fn is_required(e: &AppError) -> bool {
    matches!(e, AppError::Refused { code, .. } if *code == REAUTH_REQUIRED)
}

/// Passes when re-authentication is off, or when the caller entered the
/// password on this session within the configured minutes; else 403
/// `reauth_required`.
pub async fn require_recent(state: &AppState, who: &Principal) -> AppResult<()> {
    let minutes = state.config.security.admin_require_reauth_minutes;
    if minutes == 0 {
        return Ok(());
    }
    let sid = who.session_id;
    let entered = state
        .db
        .read(move |c| auth_sessions::password_entered_at(c, sid))
        .await?;
    let fresh_after = state.now() - Duration::minutes(i64::from(minutes));
    match entered {
        Some(at) if at > fresh_after => Ok(()),
        _ => Err(AppError::refused(
            REAUTH_REQUIRED,
            format!(
                "This action needs your password entered within the last {minutes} minutes. Enter it again (POST /api/v1/auth/reauth), then repeat the action."
            ),
        )),
    }
}

/// Checks the caller's password and records the entry on their session.
/// A wrong password is a 422 on `password` and counts as a failed log-in
/// (the same per-address and per-account limits apply).
pub async fn confirm(
    state: &AppState,
    who: &Principal,
    password: &str,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    let user = get_user(state, who.user_id).await?;
    let account_key = Email::parse(&user.email)
        .map(|e| users::email_index(&state.keys, &e))
        .unwrap_or_else(|_| format!("user:{}", user.id));
    state.login_limits.check(ip, &account_key)?;
    let ok = state
        .passwords
        .verify(password, Some(&user.password_hash))
        .await?;
    let (keys, now, uid, sid) = (state.keys.clone(), state.now(), who.user_id, who.session_id);
    let target = Some(format!("user:{uid}"));
    if !ok {
        state.login_limits.record_failure(ip, &account_key);
        state.metrics.login(false);
        state
            .db
            .write(move |tx| {
                let ev = event(Some(uid), "auth.reauth_failed", target, json!({}), ip);
                audit::append(tx, &keys, ev, now).map(drop)
            })
            .await?;
        return Err(AppError::field("password", "is not your current password"));
    }
    state.login_limits.record_success(&account_key);
    state
        .db
        .write(move |tx| {
            if !auth_sessions::mark_password_entered(tx, sid, now)? {
                return Err(AppError::unauthorized(
                    "The session has ended; log in again.",
                ));
            }
            let ev = event(Some(uid), "auth.reauth", target, json!({}), ip);
            audit::append(tx, &keys, ev, now).map(drop)
        })
        .await
}
