//! "Is Colloquy holding data about me?": anyone may ask about an e-mail
//! address; the answer goes to that address only, through the outbox, so
//! the form tells nobody else anything. It answers the same, in the same
//! way, whether or not anything is held: a mail is always sent (saying
//! what is held, where it came from and how to get a copy or erasure, or
//! that nothing is), and the caller only hears that it was.
//!
//! The answer is sent also to an address on the suppression list: that
//! list is for mail Colloquy starts (outreach); someone who opted out and
//! asks what is still held must get the answer. The limits per client
//! address and per e-mail address (`RateLimits::check_data_request`) keep
//! the form from flooding a mailbox. Each request leaves one audit row
//! (`data.requested`), naming what was found by id, never the address.

use std::net::IpAddr;

use chrono::Utc;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::db::repos::held_data::{self, Held};
use crate::db::repos::{audit, users};
use crate::domain::researcher::{source_label, Field};
use crate::domain::{zone, Email};
use crate::error::{AppError, AppResult};
use crate::services::accounts::event;
use crate::services::mail::data_rights_templates::{
    self as templates, DataRequestAnswer, ProfileHeld,
};
use crate::services::mail::{self, Outgoing};
use crate::state::AppState;

/// What the caller is told, whatever was found.
pub const ACCEPTED: &str = "Thank you. We have sent our answer to that address: whether we hold data about it and, if we do, what it is, where it came from and how to get a copy or have it erased. Only that mailbox receives it.";

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DataRequestAccepted {
    /// The same sentence for every request.
    pub message: String,
}

/// Answers a data request about `email`: validates it (422 on `email`),
/// applies the limits (429), and queues the answer to that address.
pub async fn request(
    state: &AppState,
    email: &str,
    ip: Option<IpAddr>,
) -> AppResult<DataRequestAccepted> {
    let email = Email::parse(email).map_err(|m| AppError::field("email", m))?;
    let bidx = users::email_index(&state.keys, &email);
    state.rate_limits.check_data_request(ip, &bidx)?;
    let (st, now) = (state.clone(), state.now());
    state
        .db
        .write(move |tx| {
            let held = held_data::held_at(tx, &bidx)?;
            let content = templates::data_request_answer(&answer(&st, &held))?;
            let msg = Outgoing {
                template: "data_request_answer",
                to: email,
                content,
            };
            let mail_id = mail::enqueue_requested_in(tx, &st, &msg, now)?;
            let target = match (&held.account, held.profiles.first()) {
                (Some(a), _) => Some(format!("user:{}", a.id)),
                (None, Some(p)) => Some(format!("researcher:{}", p.id)),
                (None, None) => None,
            };
            let detail = json!({
                "account": held.account.as_ref().map(|a| a.id),
                "profiles": held.profiles.iter().map(|p| p.id).collect::<Vec<_>>(),
                "mail_id": mail_id,
            });
            let ev = event(None, "data.requested", target, detail, ip);
            audit::append(tx, &st.keys, ev, now)?;
            Ok(())
        })
        .await?;
    mail::wake(state);
    Ok(DataRequestAccepted {
        message: ACCEPTED.to_string(),
    })
}

/// The mail's data: what `held` says, in words.
fn answer(state: &AppState, held: &Held) -> DataRequestAnswer {
    let cfg = &state.config;
    let base = cfg.public_url();
    let tz = cfg.institution.zone();
    let since = held.account.as_ref().map(|a| {
        chrono::DateTime::parse_from_rfc3339(&a.created_at).map_or_else(
            |_| a.created_at.clone(),
            |t| zone::date(t.with_timezone(&Utc), tz),
        )
    });
    let profiles = held
        .profiles
        .iter()
        .map(|p| ProfileHeld {
            name: p.name.clone(),
            claimed: p.owner.is_some(),
            fields: fields_held(&p.sources),
            papers: p.papers.clone(),
            invitations: p.invitations,
            url: format!("{base}/researchers/{}", p.id),
        })
        .collect();
    DataRequestAnswer {
        institution: cfg.institution.brand(),
        controller: templates::controller(cfg),
        contact_email: cfg.institution.contact_email.clone(),
        account_since: since,
        profiles,
        suppressed: held.suppressed,
        mails: held.mails,
        login_url: format!("{base}/login"),
        account_url: format!("{base}/account"),
        privacy_url: format!("{base}/privacy"),
    }
}

/// Each field a profile holds, in the profile's own order, in words, with
/// where it came from.
fn fields_held(sources: &[(String, String)]) -> Vec<(String, String)> {
    let mut known: Vec<(usize, Field, &str)> = sources
        .iter()
        .filter_map(|(field, provider)| {
            let f = Field::parse(field)?;
            let rank = Field::ALL.iter().position(|x| *x == f)?;
            Some((rank, f, provider.as_str()))
        })
        .collect();
    known.sort_by_key(|(rank, _, _)| *rank);
    known
        .into_iter()
        .map(|(_, f, provider)| (f.label().to_string(), source_label(provider).to_string()))
        .collect()
}
