//! The admins' own actions on who owns a profile and how to reach it:
//! link an account, set the e-mail by hand (each audited).

use std::net::IpAddr;

use serde_json::json;

use super::{event, give_profile};
use crate::db::repos::{audit, outreach, researchers, users};
use crate::domain::{Email, ResearcherId, ResearcherStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, Principal};
use crate::services::researchers::ResearcherView;
use crate::state::AppState;

/// Links an account to a profile (admins; audited, with the owner before).
pub async fn admin_link(
    state: &AppState,
    admin: &Principal,
    rid: ResearcherId,
    user: UserId,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    admin.require_admin()?;
    let (keys, now, actor) = (state.keys.clone(), state.now(), admin.user_id);
    let previous = state
        .db
        .write(move |tx| {
            let previous = give_profile(tx, rid, user, now)?;
            let detail = json!({"user_id": user, "previous_owner": previous});
            audit::append(
                tx,
                &keys,
                event(actor, "researcher.linked_by_admin", rid, detail, ip),
                now,
            )?;
            Ok(previous)
        })
        .await?;
    accounts::forget_role(state, user).await?;
    if let Some(p) = previous.filter(|p| *p != user) {
        accounts::forget_role(state, p).await?;
    }
    Ok(())
}

/// An account named by its e-mail address or its number (the admin page's
/// "link an account" field).
pub async fn admin_link_account(
    state: &AppState,
    admin: &Principal,
    rid: ResearcherId,
    account: &str,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    admin.require_admin()?;
    let account = account.trim();
    let user = match account.parse::<i64>() {
        Ok(id) => UserId(id),
        Err(_) => {
            let email = Email::parse(account).map_err(|m| AppError::field("account", m))?;
            let keys = state.keys.clone();
            state
                .db
                .read(move |c| users::find_by_email(c, &keys, &email))
                .await?
                .ok_or_else(|| AppError::field("account", "no account has this address"))?
                .id
        }
    };
    admin_link(state, admin, rid, user, ip).await
}

/// The account that owns a profile: (id, name, e-mail), for admins.
pub async fn owner_account(
    state: &AppState,
    admin: &Principal,
    rid: ResearcherId,
) -> AppResult<Option<(UserId, String, String)>> {
    admin.require_admin()?;
    let keys = state.keys.clone();
    state
        .db
        .read(move |c| {
            let Some(Some(owner)) = researchers::owner(c, rid)? else {
                return Ok(None);
            };
            Ok(users::find(c, &keys, owner)?.map(|u| (u.id, u.name, u.email)))
        })
        .await
}

/// Sets a profile's e-mail by hand (admins): provenance `admin`, never
/// overwritten by collection, audited. Links mailed to the old address
/// stop working.
pub async fn admin_set_email(
    state: &AppState,
    admin: &Principal,
    rid: ResearcherId,
    raw: &str,
    ip: Option<IpAddr>,
) -> AppResult<ResearcherView> {
    admin.require_admin()?;
    let email = Email::parse(raw).map_err(|m| AppError::field("email", m))?;
    let (keys, now, actor) = (state.keys.clone(), state.now(), admin.user_id);
    state
        .db
        .write(move |tx| {
            let (status, _) = researchers::status_of(tx, rid)?.ok_or(AppError::NotFound)?;
            let bidx = researchers::email_index(&keys, &email);
            if status == ResearcherStatus::OptedOut || outreach::is_suppressed(tx, &bidx)? {
                return Err(AppError::conflict(
                    "opted_out",
                    "This researcher, or this address, asked not to be contacted.",
                ));
            }
            match researchers::with_email(tx, &bidx)? {
                Some(other) if other == rid => {}
                Some(other) => {
                    return Err(AppError::conflict(
                        "email_in_use",
                        format!(
                            "Researcher {other} has this address; merge the two profiles instead."
                        ),
                    ))
                }
                None => {}
            }
            let had = researchers::email_bidx(tx, rid)?.is_some();
            researchers::set_email_by_admin(tx, &keys, rid, &email, actor, now)?;
            audit::append(
                tx,
                &keys,
                event(
                    actor,
                    "researcher.email_set",
                    rid,
                    json!({"replaced": had}),
                    ip,
                ),
                now,
            )?;
            Ok(())
        })
        .await?;
    crate::services::researchers::get(state, Some(admin), rid).await
}
