//! The one-time setup link that creates the first admin.

use std::net::IpAddr;

use chrono::Duration;
use serde_json::json;

use super::*;
use crate::crypto::{random_token, token_hash};
use crate::db::repos::{audit, setup_links, users};
use crate::domain::ConsentSource;
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::services::terms;
use crate::state::AppState;

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
    let v = validate(state, &r, true)?;
    let hash = state.passwords.hash(&r.password).await?;
    let link = token_hash(token);
    let keys = state.keys.clone();
    let now = state.now();
    let inst = state.config.institution.clone();
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
                email: &v.email,
                name: &v.name,
                role: Role::Admin,
                password_hash: &hash,
                accepted: Some(terms::accepted_now(&inst, ConsentSource::Registration)),
                timezone: v.zone.name(),
            };
            let id = users::insert(tx, &keys, &new, now)?;
            // The setup link came from the server's own log: its reader
            // runs the service and vouches for the address.
            users::mark_email_verified(tx, id, now)?;
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
