//! `colloquy payments release-held`: lets every held card authorisation
//! go, for an operator turning payments off. Each release takes the path
//! a decline takes (`held::release` at Stripe, then `held::record_let_go_in`:
//! a `release` in the ledger, or a refund if Stripe had captured it after
//! all), and adds a session event and an audit row;
//! the session keeps its status. Works with `mode = "off"`: the holds were
//! made while payments were on, and only Stripe can let them go.

use std::sync::Arc;

use serde_json::json;

use super::held;
use crate::db::repos::payments::{self as repo, SessionPayment};
use crate::db::repos::{audit, consulting_sessions};
use crate::domain::ConsultingSessionId;
use crate::error::{AppError, AppResult};
use crate::providers::stripe::StripeClient;
use crate::providers::Providers;
use crate::state::AppState;

/// The session event and audit action a release by the operator leaves.
pub const EVENT: &str = "payment_released";
pub const ACTION: &str = "payment.hold_released";

/// What a run did: the released sessions and the failed ones with why.
#[derive(Debug, Default)]
pub struct Report {
    pub released: Vec<ConsultingSessionId>,
    pub failed: Vec<(ConsultingSessionId, String)>,
}

/// The payments whose card is held now, oldest session first.
pub async fn held_payments(state: &AppState) -> AppResult<Vec<SessionPayment>> {
    state.db.read(repo::held).await
}

/// The state with a Stripe client even when `[payments] mode = "off"`,
/// or why there can be none.
pub fn with_stripe(state: &AppState) -> AppResult<AppState> {
    if state.providers.stripe.is_some() {
        return Ok(state.clone());
    }
    if !state.config.stripe.secret_key.is_set() {
        return Err(AppError::refused(
            "stripe_key_missing",
            "Releasing held payments needs the secret key of the Stripe account that holds them: \
             set [stripe] secret_key (or STRIPE_SECRET_KEY) and run again. [payments] mode may \
             stay \"off\".",
        ));
    }
    let mut providers = Providers::new(&state.config)?;
    providers.stripe = Some(StripeClient::new(&state.config.stripe)?);
    Ok(state.modified(|s| s.providers = Arc::new(providers)))
}

/// Releases each of `held` in turn, telling `progress` how each went; a
/// failure is reported and the others still go.
pub async fn release_all(
    state: &AppState,
    held: &[SessionPayment],
    mut progress: impl FnMut(&SessionPayment, Result<(), &str>),
) -> AppResult<Report> {
    let state = with_stripe(state)?;
    let mut report = Report::default();
    for p in held {
        match release_one(&state, p).await {
            Ok(()) => {
                progress(p, Ok(()));
                report.released.push(p.session_id);
            }
            Err(e) => {
                e.log();
                let why = e.public_message();
                progress(p, Err(&why));
                report.failed.push((p.session_id, why));
            }
        }
    }
    Ok(report)
}

/// Cancels one hold at Stripe, then records it with the session's event
/// and an audit row in one transaction.
async fn release_one(state: &AppState, p: &SessionPayment) -> AppResult<()> {
    if p.intent_id.is_none() {
        return Err(AppError::conflict(
            "no_intent",
            "No PaymentIntent is stored for this hold; look for it in the Stripe dashboard.",
        ));
    }
    let (id, keys) = (p.session_id, state.keys.clone());
    let session = state
        .db
        .read(move |c| consulting_sessions::find(c, &keys, id))
        .await?
        .ok_or(AppError::NotFound)?;
    let let_go = held::release(state, &session).await?;
    let (st, now, amount) = (state.clone(), state.now(), p.amount());
    state
        .db
        .write(move |tx| {
            held::record_let_go_in(tx, &st, &session, Some(&let_go), now)?;
            consulting_sessions::record_event(tx, id, EVENT, "admin", now)?;
            audit::append(
                tx,
                &st.keys,
                audit::NewEvent {
                    actor: None,
                    action: ACTION,
                    target: Some(format!("session:{id}")),
                    detail: json!({
                        "source": "cli",
                        "amount_minor": amount.minor,
                        "currency": amount.currency.code(),
                    }),
                    ip: None,
                },
                now,
            )?;
            Ok(())
        })
        .await
}
