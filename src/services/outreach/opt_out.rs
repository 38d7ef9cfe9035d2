//! One-click opt-out: the address is suppressed and erased; the researcher
//! is never contacted again.

use std::net::IpAddr;

use serde_json::json;

use crate::db::repos::outreach as repo;
use crate::db::repos::{audit, researchers};
use crate::domain::ResearcherStatus;
use crate::error::{AppError, AppResult};
use crate::services::link_tokens::{self};
use crate::state::AppState;

/// Opts a researcher out: the address goes on the suppression list, the
/// collected e-mail is erased, and no mail is ever sent to it again.
pub async fn opt_out(state: &AppState, token: &str, ip: Option<IpAddr>) -> AppResult<String> {
    let claims = link_tokens::verify(&state.keys, token, link_tokens::OPT_OUT, state.now())
        .map_err(|(p, _)| p.into_error())?;
    let rid = claims.rid;
    let (keys, now) = (state.keys.clone(), state.now());
    let name = state
        .db
        .write(move |tx| {
            let row = researchers::find(tx, &keys, rid)?.ok_or(AppError::NotFound)?;
            let current = researchers::email_bidx(tx, rid)?;
            // A link mailed to an address the profile no longer has opts
            // that address out, not the profile's new one.
            let old_address = claims
                .rcpt
                .as_ref()
                .filter(|_| !claims.is_for(current.as_deref()));
            if let Some(rcpt) = old_address {
                repo::suppress(tx, rcpt, "opt_out", now)?;
                let ev = audit::NewEvent {
                    actor: None,
                    action: "researcher.old_address_opted_out",
                    target: Some(format!("researcher:{rid}")),
                    detail: json!({}),
                    ip,
                };
                audit::append(tx, &keys, ev, now)?;
                return Ok(row.name);
            }
            if let Some(bidx) = current {
                repo::suppress(tx, &bidx, "opt_out", now)?;
            }
            researchers::erase_email(tx, rid, now)?;
            researchers::set_status(tx, rid, ResearcherStatus::OptedOut, now)?;
            repo::opted_out(tx, rid, now)?;
            let ev = audit::NewEvent {
                actor: None,
                action: "researcher.opted_out",
                target: Some(format!("researcher:{rid}")),
                detail: json!({}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(row.name)
        })
        .await?;
    tracing::info!(researcher_id = %rid, "researcher opted out; address suppressed and erased");
    Ok(name)
}

/// The name on an opt-out link (for the confirmation page).
pub async fn opt_out_name(state: &AppState, token: &str) -> AppResult<String> {
    let claims = link_tokens::verify(&state.keys, token, link_tokens::OPT_OUT, state.now())
        .map_err(|(p, _)| p.into_error())?;
    let rid = claims.rid;
    let keys = state.keys.clone();
    Ok(state
        .db
        .read(move |c| researchers::find(c, &keys, rid))
        .await?
        .ok_or(AppError::NotFound)?
        .name)
}
