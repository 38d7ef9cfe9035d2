//! Admins disable and enable accounts. Disabling ends every log-in session
//! (cached checks dropped at once) and stops log-in. Each change and its
//! audit event commit in one transaction. Deleting an account is an
//! erasure: `data_rights::erasure::delete_account`.

use std::net::IpAddr;

use serde_json::json;

use super::{event, forget_sessions, Account, Principal};
use crate::db::repos::{audit, auth_sessions, users};
use crate::domain::{Role, UserId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Refuses what would lock every admin out, and acting on oneself.
pub(crate) fn check_target(
    conn: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    admin: &Principal,
    target: UserId,
    verb: &str,
) -> AppResult<users::UserRow> {
    let row = users::find(conn, keys, target)?.ok_or(AppError::NotFound)?;
    if target == admin.user_id {
        return Err(AppError::conflict(
            "own_account",
            format!("You cannot {verb} your own account; ask another admin."),
        ));
    }
    if row.deleted {
        return Err(AppError::conflict(
            "account_deleted",
            "This account is deleted already.",
        ));
    }
    if row.role == Role::Admin && !row.disabled && users::active_admins(conn)? <= 1 {
        return Err(AppError::conflict(
            "last_admin",
            format!("This is the last admin who can sign in; you cannot {verb} it."),
        ));
    }
    Ok(row)
}

/// Disables an account: its log-in sessions and refresh tokens end now and
/// it cannot sign in until an admin enables it. Disabling a disabled
/// account changes nothing.
pub async fn disable(
    state: &AppState,
    admin: &Principal,
    target: UserId,
    ip: Option<IpAddr>,
) -> AppResult<Account> {
    admin.require_admin()?;
    let (keys, now, who) = (state.keys.clone(), state.now(), *admin);
    let ended = state
        .db
        .write(move |tx| {
            check_target(tx, &keys, &who, target, "disable")?;
            if !users::set_disabled(tx, target, true, now)? {
                return Ok(Vec::new());
            }
            let ended = auth_sessions::revoke_all_except(tx, target, None, now)?;
            let detail = json!({"sessions_ended": ended.len()});
            let ev = event(
                Some(who.user_id),
                "user.disabled",
                Some(format!("user:{target}")),
                detail,
                ip,
            );
            audit::append(tx, &keys, ev, now)?;
            Ok(ended)
        })
        .await?;
    forget_sessions(state, ended).await;
    super::account(state, target).await
}

/// Lets a disabled account sign in again (its old sessions stay ended).
pub async fn enable(
    state: &AppState,
    admin: &Principal,
    target: UserId,
    ip: Option<IpAddr>,
) -> AppResult<Account> {
    admin.require_admin()?;
    let (keys, now, actor) = (state.keys.clone(), state.now(), admin.user_id);
    state
        .db
        .write(move |tx| {
            let row = users::find(tx, &keys, target)?.ok_or(AppError::NotFound)?;
            if row.deleted {
                return Err(AppError::conflict(
                    "account_deleted",
                    "A deleted account cannot be enabled.",
                ));
            }
            if users::set_disabled(tx, target, false, now)? {
                let ev = event(
                    Some(actor),
                    "user.enabled",
                    Some(format!("user:{target}")),
                    json!({}),
                    ip,
                );
                audit::append(tx, &keys, ev, now)?;
            }
            Ok(())
        })
        .await?;
    super::account(state, target).await
}
