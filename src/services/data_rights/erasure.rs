//! Erasure (Art. 17). A person closes their own account with their
//! password (`DELETE /api/v1/users/me`): the account is closed at once
//! (202), and the rest runs in the background, resumably (housekeeping
//! picks up any erasure a restart interrupted):
//! 1. open sessions are cancelled under the normal rules, with refunds;
//!    a running subscription is cancelled at the end of its period;
//! 2. the personal data is erased in one transaction: the account's rows
//!    (`account_removal::erase`), every value sealed under the person's
//!    keys blanked, the account row anonymised (its name becomes a
//!    pseudonym, which is what the audit trail then shows as the actor);
//!    invoices and the ledger stay as the law requires (`[retention]
//!    invoices_years`), reviews show "Former user";
//! 3. the person's data keys are destroyed (crypto-shredding), so copies
//!    in backups stop decrypting, and the WAL is checkpointed.

use std::net::IpAddr;

use serde::Serialize;
use serde_json::json;

use crate::crypto::Subject;
use crate::db::encrypted_columns;
use crate::db::repos::{account_removal, audit, auth_sessions, consulting_sessions, users};
use crate::domain::{Email, Role, SessionId, UserId};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, reauth, Principal};
use crate::services::data_rights::profile_erasure::{self, ProfileErasure};
use crate::services::data_rights::shred::shred;
use crate::services::sessions::{lifecycle, Party};
use crate::state::AppState;

type Time = chrono::DateTime<chrono::Utc>;

/// The answer to an erasure request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErasureAccepted {
    /// Always `accepted`: the account is closed; the erasure finishes in
    /// the background.
    pub status: &'static str,
    pub requested_at: String,
}

/// What one erasure did, for its audit row.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ErasureReport {
    pub sessions_cancelled: usize,
    /// The researcher profile the account owned, erased with it.
    pub profiles_erased: usize,
    pub values_blanked: usize,
    pub keys_destroyed: usize,
    pub erased: account_removal::Erased,
}

/// A person asks to erase their own account. The password is checked
/// (422 on `password`, counted like a failed log-in); the last admin is
/// refused. Every log-in session ends now.
pub async fn request_own(
    state: &AppState,
    who: &Principal,
    password: &str,
    ip: Option<IpAddr>,
) -> AppResult<ErasureAccepted> {
    reauth::confirm(state, who, password, ip).await?;
    let (keys, now, uid) = (state.keys.clone(), state.now(), who.user_id);
    let ended = state
        .db
        .write(move |tx| {
            let row = users::find(tx, &keys, uid)?.ok_or(AppError::NotFound)?;
            if row.role == Role::Admin && !row.disabled && users::active_admins(tx)? <= 1 {
                return Err(AppError::conflict(
                    "last_admin",
                    "You are the last admin who can sign in; make another admin first.",
                ));
            }
            if !account_removal::mark_erasure_requested(tx, uid, now)? {
                return Ok(Vec::new());
            }
            let ended = auth_sessions::revoke_all_except(tx, uid, None, now)?;
            let ev = accounts::event(
                Some(uid),
                "user.erasure_requested",
                Some(format!("user:{uid}")),
                json!({}),
                ip,
            );
            audit::append(tx, &keys, ev, now)?;
            Ok(ended)
        })
        .await?;
    accounts::forget_sessions(state, ended).await;
    let st = state.clone();
    tokio::spawn(async move {
        if let Err(e) = complete(&st, uid).await {
            tracing::warn!(user_id = %uid, error = %e, "erasure not finished yet; housekeeping retries it");
        }
    });
    Ok(ErasureAccepted {
        status: "accepted",
        requested_at: crate::db::ts(now),
    })
}

/// Finishes every pending erasure (housekeeping); returns how many
/// finished. One that cannot finish now (a refund refused by Stripe) is
/// left for the next run.
pub async fn complete_pending(state: &AppState) -> AppResult<usize> {
    let pending = state.db.read(account_removal::pending_erasures).await?;
    let mut done = 0;
    for uid in pending {
        match complete(state, uid).await {
            Ok(_) => done += 1,
            Err(e) => {
                tracing::warn!(user_id = %uid, error = %e, "erasure not finished yet; the next run retries it")
            }
        }
    }
    Ok(done)
}

/// Deletes an account: it can never sign in again, and its personal data
/// is erased: the name, address and password of the account row, its
/// log-in sessions, reading progress, questions, interest, verification
/// links, claim requests, billing details and mail; a profile it owned is
/// released. Refused for oneself, the last admin, and while the account
/// has live sessions or a running subscription (cancel those first).
///
/// The one place that erases an account: the data-rights rules (export,
/// retention, the subject's own request) extend this function.
pub async fn delete_account(
    state: &AppState,
    admin: &Principal,
    target: UserId,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    admin.require_admin()?;
    reauth::require_recent(state, admin).await?;
    let (keys, now, who) = (state.keys.clone(), state.now(), *admin);
    let ended = state
        .db
        .write(move |tx| {
            let row = accounts::check_target(tx, &keys, &who, target, "delete")?;
            let ties = account_removal::ties(tx, target)?;
            if ties.live_sessions > 0 {
                return Err(AppError::conflict(
                    "live_sessions",
                    format!(
                        "This account has {} requested or accepted session(s); cancel them first.",
                        ties.live_sessions
                    ),
                ));
            }
            if ties.live_subscription {
                return Err(AppError::conflict(
                    "live_subscription",
                    "This account has a running subscription; cancel it first.",
                ));
            }
            let erased = erase_in(tx, &keys, target, now)?;
            let report = &erased.report;
            let detail = json!({"role": row.role.as_str(), "erased": report.erased,
                "values_blanked": report.values_blanked, "profiles_erased": report.profiles_erased});
            let ev = accounts::event(
                Some(who.user_id),
                "user.deleted",
                Some(format!("user:{target}")),
                detail,
                ip,
            );
            audit::append(tx, &keys, ev, now)?;
            Ok(erased)
        })
        .await?;
    finish(state, ended).await?;
    tracing::info!(user_id = %target, "account deleted");
    Ok(())
}

/// Runs the steps of one erasure (each is safe to repeat).
pub async fn complete(state: &AppState, uid: UserId) -> AppResult<ErasureReport> {
    let sessions_cancelled = cancel_open_sessions(state, uid).await?;
    let subscribed = Principal {
        user_id: uid,
        role: Role::User,
        session_id: SessionId(0),
    };
    let live = state
        .db
        .read(move |c| Ok(account_removal::ties(c, uid)?.live_subscription))
        .await?;
    if live && crate::services::payments::client::enabled(state) {
        // Stripe stops charging at the period's end; an unconfirmed one
        // (`not_subscribed`) has nothing to stop.
        match crate::services::payments::subscriptions::cancel(state, &subscribed).await {
            Ok(_) => {}
            Err(AppError::Conflict {
                code: "not_subscribed",
                ..
            }) => {}
            Err(e) => return Err(e),
        }
    }
    let (keys, now) = (state.keys.clone(), state.now());
    let done = state
        .db
        .write(move |tx| {
            // Finished meanwhile (housekeeping and the request's own task
            // may both get here): nothing to do twice.
            if users::find(tx, &keys, uid)?.is_none_or(|u| u.deleted) {
                return Ok(None);
            }
            let erased = erase_in(tx, &keys, uid, now)?;
            let report = &erased.report;
            let detail = json!({"sessions_cancelled": sessions_cancelled, "erased": &report.erased,
                "values_blanked": report.values_blanked, "profiles_erased": report.profiles_erased});
            let ev = accounts::event(
                None,
                "user.erased",
                Some(format!("user:{uid}")),
                detail,
                None,
            );
            audit::append(tx, &keys, ev, now)?;
            Ok(Some(erased))
        })
        .await?;
    let Some(erased) = done else {
        return Ok(ErasureReport::default());
    };
    let mut report = erased.report.clone();
    report.sessions_cancelled = sessions_cancelled;
    report.keys_destroyed = finish(state, erased).await?;
    tracing::info!(user_id = %uid, "account erased");
    Ok(report)
}

async fn cancel_open_sessions(state: &AppState, uid: UserId) -> AppResult<usize> {
    let now = state.now();
    let ids = state
        .db
        .read(move |c| account_removal::open_sessions(c, uid, now))
        .await?;
    let mut n = 0;
    for id in ids {
        let keys = state.keys.clone();
        let Some(row) = state
            .db
            .read(move |c| consulting_sessions::find(c, &keys, id))
            .await?
        else {
            continue;
        };
        let party = if row.reader_id == uid {
            Party::Reader
        } else {
            Party::Researcher
        };
        match lifecycle::cancel_at_erasure(state, row, party).await {
            Ok(_) => n += 1,
            // Moved on meanwhile (declined, expired, started): nothing to do.
            Err(AppError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// What an account's erasure leaves to do once its transaction commits.
pub(crate) struct Erased {
    ended: Vec<SessionId>,
    pub report: ErasureReport,
    profiles: Vec<ProfileErasure>,
    uid: UserId,
}

/// Erases an account's personal data in the caller's transaction (admin
/// deletion and self-service erasure share it), with the profile it owns:
/// erased like a never-signed-up one's (its address suppressed, its ORCID
/// and OpenAlex id on the do-not-collect list). Then call `finish`.
pub(crate) fn erase_in(
    tx: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    uid: UserId,
    now: Time,
) -> AppResult<Erased> {
    let row = users::find(tx, keys, uid)?.ok_or(AppError::NotFound)?;
    let owned = account_removal::owned_now(tx, uid)?;
    let bidx = Email::parse(&row.email)
        .map(|e| users::email_index(keys, &e))
        .unwrap_or_default();
    let (ended, erased) = account_removal::erase(tx, uid, &bidx, now)?;
    let mut values_blanked =
        encrypted_columns::blank_subject(tx, keys, &Subject::User(uid).to_string())?;
    values_blanked += audit::forget_ips_of(tx, uid)?;
    // The address is free once the account row no longer holds it, so the
    // profile's erasure suppresses it.
    users::anonymise(tx, keys, uid, now)?;
    let mut profiles = Vec::with_capacity(owned.len());
    for id in owned {
        let p = profile_erasure::erase_in(tx, keys, id, now)?;
        values_blanked += p.values_blanked;
        profiles.push(p);
    }
    let report = ErasureReport {
        values_blanked,
        profiles_erased: profiles.len(),
        erased,
        ..ErasureReport::default()
    };
    Ok(Erased {
        ended,
        report,
        profiles,
        uid,
    })
}

/// After the erasing transaction: sessions' cached checks dropped, the
/// account's and its profiles' data keys destroyed, cached views dropped.
/// Returns how many keys were destroyed.
pub(crate) async fn finish(state: &AppState, e: Erased) -> AppResult<usize> {
    accounts::forget_sessions(state, e.ended).await;
    // One destruction and one checkpoint for the account and its profiles.
    let mut subjects = vec![Subject::User(e.uid)];
    subjects.extend(e.profiles.iter().flat_map(|p| p.subjects.iter().copied()));
    let destroyed = shred(state, &subjects).await?;
    for p in &e.profiles {
        profile_erasure::forget(state, p).await;
    }
    Ok(destroyed)
}
