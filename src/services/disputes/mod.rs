//! Disputes of a session's outcome: opened by a participant (or by Stripe
//! for a chargeback), answered by the other participant, discussed in
//! messages with admins, and resolved by an admin, with refunds through
//! the payments code. A participant's no-show report is a claim here: it
//! stands unless the other side contests it in time.
//!
//! ```text
//! open ─(other party told)─▶ awaiting_response ─(answer, contest, admin,
//!                                                 deadline)─▶ under_review
//! open | awaiting_response | under_review ─(admin)─▶ resolved
//!                                         ─(opener)─▶ withdrawn
//! ```
//!
//! The moves themselves are `domain::dispute::step`. Who may see a dispute
//! is who may see its session: its reader, its researcher, admins;
//! everyone else gets 404.

pub mod jobs;
pub mod messages;
pub mod moves;
pub mod no_show;
mod notify;
pub mod open;
pub mod resolve;
mod views;

pub use views::{DisputeView, MessageView, SessionDisputes};

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde_json::json;

use crate::db::repos::audit;
use crate::db::repos::disputes::{self as repo, DisputeRow, ListFilter};
use crate::domain::dispute::{self, DisputeSide, Refusal, Step};
use crate::domain::{DisputeId, DisputeStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageParams};
use crate::services::accounts::Principal;
use crate::services::sessions::Party;
use crate::state::AppState;

/// The caller's part in a dispute; `NotFound` for anyone else, so ids do
/// not leak.
fn party_of(d: &DisputeRow, who: &Principal) -> AppResult<Party> {
    if d.reader_id == who.user_id {
        Ok(Party::Reader)
    } else if d.researcher_user == Some(who.user_id) {
        Ok(Party::Researcher)
    } else if who.is_admin() {
        Ok(Party::Admin)
    } else {
        Err(AppError::NotFound)
    }
}

/// A participant as the side of a dispute.
fn side_of(p: Party) -> Option<DisputeSide> {
    match p {
        Party::Reader => Some(DisputeSide::Reader),
        Party::Researcher => Some(DisputeSide::Researcher),
        Party::Admin => None,
    }
}

/// A side of a dispute as a participant (Stripe is none).
fn party_for(s: DisputeSide) -> Option<Party> {
    match s {
        DisputeSide::Reader => Some(Party::Reader),
        DisputeSide::Researcher => Some(Party::Researcher),
        DisputeSide::Stripe => None,
    }
}

/// `step`'s refusal as the 409 the API answers.
fn refused(r: Refusal) -> AppError {
    AppError::conflict(r.code, r.message)
}

/// Where `s` takes the dispute, or the 409 why not.
fn check(d: &DisputeRow, s: Step) -> AppResult<DisputeStatus> {
    dispute::step(d.status, s).map_err(refused)
}

/// 409 `dispute_open`: a session has at most one open dispute.
fn already_open() -> AppError {
    AppError::conflict(
        "dispute_open",
        "This session already has an open dispute; add to it instead.",
    )
}

/// A closed dispute takes no more messages or moves (409 `dispute_closed`).
fn ensure_open(d: &DisputeRow) -> AppResult<()> {
    check(d, Step::Withdraw).map(|_| ())
}

async fn find(state: &AppState, id: DisputeId) -> AppResult<DisputeRow> {
    let keys = state.keys.clone();
    state
        .db
        .read(move |c| repo::find(c, &keys, id))
        .await?
        .ok_or(AppError::NotFound)
}

/// A dispute with any deadline that passed applied (`jobs::settle`).
async fn settled(state: &AppState, d: DisputeRow) -> AppResult<DisputeRow> {
    if jobs::settle(state, &d).await {
        find(state, d.id).await
    } else {
        Ok(d)
    }
}

/// Loads a dispute the caller may see, with their part in it, as it
/// stands now (a passed deadline applied).
async fn load(state: &AppState, who: &Principal, id: DisputeId) -> AppResult<(DisputeRow, Party)> {
    let d = find(state, id).await?;
    let party = party_of(&d, who)?;
    Ok((settled(state, d).await?, party))
}

/// Re-reads a dispute inside a transaction (after the checks outside it).
fn reload(c: &Connection, st: &AppState, id: DisputeId) -> AppResult<DisputeRow> {
    repo::find(c, &st.keys, id)?.ok_or(AppError::NotFound)
}

/// An audit event about a dispute (its target, session and kind are
/// added by `audit_in`).
struct Audited {
    actor: Option<UserId>,
    action: &'static str,
    detail: serde_json::Value,
    ip: Option<IpAddr>,
}

impl Audited {
    fn by(actor: Option<UserId>, action: &'static str, ip: Option<IpAddr>) -> Self {
        Self {
            actor,
            action,
            detail: json!({}),
            ip,
        }
    }

    fn with(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Appends a dispute's audit event in the caller's transaction.
fn audit_in(
    c: &Connection,
    st: &AppState,
    d: &DisputeRow,
    e: Audited,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut detail = e.detail;
    if let Some(map) = detail.as_object_mut() {
        map.insert("session_id".into(), json!(d.session_id));
        map.insert("kind".into(), json!(d.kind));
    }
    audit::append(
        c,
        &st.keys,
        audit::NewEvent {
            actor: e.actor,
            action: e.action,
            target: Some(format!("dispute:{}", d.id)),
            detail,
            ip: e.ip,
        },
        now,
    )?;
    Ok(())
}

/// One dispute with its messages. A deadline that passed unseen by the
/// job is applied first, so the answer is never stale.
pub async fn get(state: &AppState, who: &Principal, id: DisputeId) -> AppResult<DisputeView> {
    let (d, party) = load(state, who, id).await?;
    let keys = state.keys.clone();
    let messages = state.db.read(move |c| repo::messages(c, &keys, id)).await?;
    Ok(views::view(d, party, who.user_id, Some(messages)))
}

/// Parses `?status=`: a status, or `active` for the open ones; empty for
/// all. Exactly these values (as the API documents them), not padded.
fn status_filter(status: Option<&str>) -> AppResult<(Option<DisputeStatus>, bool)> {
    match status.filter(|s| !s.is_empty()) {
        None => Ok((None, false)),
        Some("active") => Ok((None, true)),
        Some(s) => s.parse().map(|s| (Some(s), false)).map_err(|_| {
            AppError::field(
                "status",
                format!("must be active or one of {}", DisputeStatus::list()),
            )
        }),
    }
}

async fn list(
    state: &AppState,
    who: &Principal,
    party: Option<UserId>,
    status: Option<&str>,
    page: &PageParams,
) -> AppResult<Page<DisputeView>> {
    let (status, open_only) = status_filter(status)?;
    let limit = page.limit()?;
    let filter = ListFilter {
        party,
        status,
        open_only,
        before_id: page.after_id()?,
        limit: limit + 1,
    };
    let keys = state.keys.clone();
    let rows = state
        .db
        .read(move |c| repo::list(c, &keys, &filter))
        .await?;
    let views = rows
        .into_iter()
        .map(|d| {
            let party = party_of(&d, who).unwrap_or(Party::Admin);
            views::view(d, party, who.user_id, None)
        })
        .collect();
    Ok(Page::from_rows(views, limit, |v: &DisputeView| v.id))
}

/// Disputes of the sessions I take part in, newest first.
pub async fn list_mine(
    state: &AppState,
    who: &Principal,
    status: Option<&str>,
    page: &PageParams,
) -> AppResult<Page<DisputeView>> {
    list(state, who, Some(who.user_id), status, page).await
}

/// Every dispute, newest first (admins: the queue).
pub async fn list_all(
    state: &AppState,
    who: &Principal,
    status: Option<&str>,
    page: &PageParams,
) -> AppResult<Page<DisputeView>> {
    who.require_admin()?;
    list(state, who, None, status, page).await
}
