//! Giving and withdrawing a consent, and accepting a document version:
//! the ledger row, the state it governs and the audit event in one
//! transaction. A change to the state it is already in writes nothing.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde_json::json;

use super::{list, listing, profile_required, Consents};
use crate::db::repos::consents::{self as repo, ConsentRow};
use crate::db::repos::reviews as review_repo;
use crate::db::repos::{audit, researchers};
use crate::domain::{ConsentAction, ConsentKind, ConsentSource, LegalDocument, UserId};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, Principal};
use crate::services::{mail, terms};
use crate::state::AppState;

/// Gives `kind`. For the terms and the privacy notice: their current
/// versions.
pub async fn grant(
    state: &AppState,
    who: &Principal,
    kind: ConsentKind,
    source: ConsentSource,
    ip: Option<IpAddr>,
) -> AppResult<Consents> {
    if let Some(document) = kind.document() {
        let version = terms::version_of(&state.config.institution, document).to_string();
        return accept(state, who, document, &version, source, ip).await;
    }
    change(state, who, kind, ConsentAction::Grant, source, ip).await
}

/// Withdraws `kind`. Withdrawing the terms or the privacy notice leaves the
/// account able to use only what the terms gate lets through until it
/// accepts again.
pub async fn withdraw(
    state: &AppState,
    who: &Principal,
    kind: ConsentKind,
    source: ConsentSource,
    ip: Option<IpAddr>,
) -> AppResult<Consents> {
    change(state, who, kind, ConsentAction::Withdraw, source, ip).await
}

/// Accepts `document` at `version`, which must be the current one.
pub async fn accept(
    state: &AppState,
    who: &Principal,
    document: LegalDocument,
    version: &str,
    source: ConsentSource,
    ip: Option<IpAddr>,
) -> AppResult<Consents> {
    let current = terms::version_of(&state.config.institution, document).to_string();
    if version != current {
        let what = match document {
            LegalDocument::Terms => "terms of use",
            LegalDocument::PrivacyNotice => "privacy notice",
        };
        return Err(AppError::field(
            "version",
            format!("`{version}` is not the current version of the {what}; the current one is `{current}`"),
        ));
    }
    change_to(
        state,
        who,
        document.kind(),
        ConsentAction::Grant,
        Some(current),
        source,
        ip,
    )
    .await
}

async fn change(
    state: &AppState,
    who: &Principal,
    kind: ConsentKind,
    action: ConsentAction,
    source: ConsentSource,
    ip: Option<IpAddr>,
) -> AppResult<Consents> {
    change_to(state, who, kind, action, None, source, ip).await
}

async fn change_to(
    state: &AppState,
    who: &Principal,
    kind: ConsentKind,
    action: ConsentAction,
    version: Option<String>,
    source: ConsentSource,
    ip: Option<IpAddr>,
) -> AppResult<Consents> {
    let (st, user, now) = (state.clone(), who.user_id, state.now());
    let changed = state
        .db
        .write(move |tx| {
            let latest = repo::latest(tx, user, kind)?;
            let version = match (action, kind.document()) {
                // A withdrawal names the version it ends.
                (ConsentAction::Withdraw, Some(_)) => {
                    latest.as_ref().and_then(|r| r.version.clone())
                }
                (ConsentAction::Grant, None) if kind == ConsentKind::ResearcherListing => {
                    Some(st.config.institution.terms_version.clone())
                }
                _ => version,
            };
            if already(tx, user, kind, action, version.as_deref(), latest.as_ref())? {
                return Ok(false);
            }
            apply(tx, &st, user, kind, action, version.as_deref(), now)?;
            repo::append(tx, user, kind, action, version.as_deref(), source, now)?;
            let verb = match action {
                ConsentAction::Grant => "consent.granted",
                ConsentAction::Withdraw => "consent.withdrawn",
            };
            let ev = accounts::event(
                Some(user),
                verb,
                Some(format!("user:{user}")),
                json!({"kind": kind.as_str(), "version": version, "source": source.as_str()}),
                ip,
            );
            audit::append(tx, &st.keys, ev, now)?;
            Ok(true)
        })
        .await?;
    if changed {
        if kind.document().is_some() {
            // Cached API sessions carry the accepted versions.
            accounts::forget_role(state, user).await?;
        }
        if kind == ConsentKind::ResearcherListing {
            mail::wake(state);
        }
    }
    list(state, who).await
}

/// Whether the account is in that state already (then nothing is written).
fn already(
    tx: &Connection,
    user: UserId,
    kind: ConsentKind,
    action: ConsentAction,
    version: Option<&str>,
    latest: Option<&ConsentRow>,
) -> AppResult<bool> {
    if kind == ConsentKind::ResearcherListing {
        // The profile's own state decides, so a listing made before the
        // ledger (or by an admin's link) can still be withdrawn.
        let rid = profile_required(researchers::by_user(tx, user)?)?;
        let withdrawn = researchers::listing_withdrawn(tx, rid)?;
        return Ok(match action {
            ConsentAction::Withdraw => withdrawn,
            ConsentAction::Grant => {
                !withdrawn && latest.is_some_and(|r| r.action == ConsentAction::Grant)
            }
        });
    }
    Ok(match latest {
        Some(r) => {
            r.action == action
                && (action == ConsentAction::Withdraw || r.version.as_deref() == version)
        }
        None => (action == ConsentAction::Grant) == kind.granted_by_default(),
    })
}

/// The effect of a change on the state it governs.
fn apply(
    tx: &Connection,
    st: &AppState,
    user: UserId,
    kind: ConsentKind,
    action: ConsentAction,
    version: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let grant = action == ConsentAction::Grant;
    match kind {
        ConsentKind::Terms | ConsentKind::PrivacyNotice => {
            let document = kind
                .document()
                .ok_or_else(|| AppError::internal("document"))?;
            repo::set_document(tx, user, document, version.filter(|_| grant), now)?;
        }
        ConsentKind::ReviewReminders => review_repo::set_reminders(tx, user, grant)?,
        ConsentKind::ProductEmail => {}
        ConsentKind::ResearcherListing => {
            let rid = profile_required(researchers::by_user(tx, user)?)?;
            if grant {
                researchers::set_listing_consent(tx, rid, version.unwrap_or_default(), None, now)?;
            } else {
                researchers::withdraw_listing(tx, rid, now)?;
                listing::tell_researcher(tx, st, user, rid, now)?;
            }
        }
    }
    Ok(())
}
