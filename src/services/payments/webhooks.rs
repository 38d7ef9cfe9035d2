//! `POST /api/v1/webhooks/stripe`: signed events keep the local state true
//! even when they arrive twice, late or out of order. An event is stored by
//! id in the same transaction as its effects, so a replay is a no-op and a
//! failure leaves nothing behind (Stripe retries on the 500).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use rusqlite::Transaction;
use serde_json::Value;

use super::held;
use super::signature;
use super::subscription_events::{
    apply_subscription, checkout_completed, invoice_paid, renewal_failed,
};
use super::text;
use crate::db::repos::consulting_sessions;
use crate::db::repos::ledger::{self, NewEntry};
use crate::db::repos::payments as repo;
use crate::db::repos::{audit, billing};
use crate::error::{AppError, AppResult};
use crate::providers::stripe::Subscription as StripeSubscription;
use crate::state::AppState;

/// What happened to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    /// Seen before: nothing done.
    Replayed,
    /// A type Colloquy does not handle: acknowledged and ignored.
    Ignored,
}

const HANDLED: &[&str] = &[
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "checkout.session.completed",
    "charge.refunded",
    "charge.dispute.created",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
];

fn allowed(state: &AppState, ip: Option<IpAddr>) -> bool {
    let list = &state.config.stripe.webhook_allowed_ips;
    if list.is_empty() {
        return true;
    }
    let (Some(ip), Ok(nets)) = (ip, crate::config::ip_nets("", list)) else {
        return false;
    };
    nets.iter().any(|n| n.contains(&ip))
}

fn bad(message: &str) -> AppError {
    AppError::bad_request("bad_webhook", message)
}

/// The Stripe subscription an event is about, if any.
fn subscription_ref(kind: &str, object: &Value) -> Option<String> {
    match kind {
        k if k.starts_with("customer.subscription.") => text(object, "id").map(str::to_string),
        "invoice.paid" | "invoice.payment_failed" => text(object, "subscription")
            .or_else(|| object["parent"]["subscription_details"]["subscription"].as_str())
            .map(str::to_string),
        "checkout.session.completed" => text(object, "subscription").map(str::to_string),
        _ => None,
    }
}

pub async fn handle(
    state: &AppState,
    ip: Option<IpAddr>,
    signature_header: Option<&str>,
    body: &[u8],
) -> AppResult<Outcome> {
    if !held::enabled(state) {
        return Err(AppError::NotFound);
    }
    if !allowed(state, ip) {
        return Err(AppError::Forbidden);
    }
    let now = state.now();
    let cfg = &state.config.stripe;
    signature::verify(
        signature_header.unwrap_or_default(),
        body,
        cfg.webhook_secret.expose(),
        now.timestamp(),
        cfg.webhook_tolerance_secs,
    )
    .map_err(|e| bad(e.message()))?;
    let event: Value = serde_json::from_slice(body).map_err(|_| bad("The event is not JSON."))?;
    let (Some(id), Some(kind)) = (text(&event, "id"), text(&event, "type")) else {
        return Err(bad("The event has no id or type."));
    };
    let (id, kind) = (id.to_string(), kind.to_string());
    let created = event["created"].as_i64().unwrap_or(0);
    let object = event["data"]["object"].clone();
    // A replay is answered without asking Stripe anything.
    let seen = id.clone();
    if state
        .db
        .read(move |c| billing::event_seen(c, &seen))
        .await?
    {
        return Ok(Outcome::Replayed);
    }
    // What the event alone cannot be trusted with is read from Stripe first.
    let fetched = if HANDLED.contains(&kind.as_str()) {
        fetch(state, &kind, &object).await?
    } else {
        Fetched::default()
    };
    let st = state.clone();
    let outcome = state
        .db
        .write(move |tx| {
            if !billing::record_event(tx, &id, &kind, created, now)? {
                return Ok(Outcome::Replayed);
            }
            if !HANDLED.contains(&kind.as_str()) {
                return Ok(Outcome::Ignored);
            }
            if let Some((session, intent)) = &fetched.checkout_intent {
                // Stripe confirmed the reader's Checkout made this intent.
                if repo::find(tx, *session)?.is_some_and(|p| p.intent_id.is_none()) {
                    repo::set_intent(tx, *session, intent, now)?;
                }
            }
            process(tx, &st, &kind, created, &object, &fetched, now)?;
            Ok(Outcome::Processed)
        })
        .await
        .map_err(|e| match e {
            e @ AppError::Internal(_) => e,
            other => AppError::internal(format!("processing a Stripe event: {other}")),
        })?;
    if outcome == Outcome::Processed {
        crate::services::mail::wake(state);
    }
    tracing::info!(outcome = ?outcome, "stripe webhook");
    Ok(outcome)
}

/// What Stripe says about an event's objects, read before the transaction.
#[derive(Default)]
struct Fetched {
    /// The subscription, where event order matters.
    subscription: Option<StripeSubscription>,
    /// A reader's Checkout made this intent: (session id, intent id).
    checkout_intent: Option<(i64, String)>,
    /// Every refund of the charge's intent, when the event leaves them out.
    refunds: Option<Vec<(String, i64)>>,
}

async fn fetch(state: &AppState, kind: &str, object: &Value) -> AppResult<Fetched> {
    let stripe = state.providers.stripe.as_ref().ok_or(AppError::NotFound)?;
    let mut fetched = Fetched::default();
    if let Some(sub) = subscription_ref(kind, object) {
        fetched.subscription = Some(
            stripe
                .retrieve_subscription(&sub)
                .await
                .map_err(held::upstream)?,
        );
    }
    if kind.starts_with("payment_intent.") {
        fetched.checkout_intent = checkout_intent(state, object).await?;
    }
    if kind == "charge.refunded" && object["refunds"]["data"].as_array().is_none() {
        if let Some(intent) = text(object, "payment_intent") {
            let known = intent.to_string();
            if state
                .db
                .read(move |c| repo::find_by_intent(c, &known))
                .await?
                .is_some()
            {
                let list = stripe.list_refunds(intent).await.map_err(held::upstream)?;
                fetched.refunds = Some(list.into_iter().map(|r| (r.id, r.amount)).collect());
            }
        }
    }
    Ok(fetched)
}

/// An intent we do not know yet may come from a reader's Checkout: the
/// event's metadata only says where to look; Stripe's own Checkout Session
/// must name this very intent before the payment is bound to it.
async fn checkout_intent(state: &AppState, intent: &Value) -> AppResult<Option<(i64, String)>> {
    let Some(id) = text(intent, "id").map(str::to_string) else {
        return Ok(None);
    };
    let session = intent["metadata"]["session_id"]
        .as_str()
        .and_then(|s| s.parse::<i64>().ok());
    let Some(session) = session else {
        return Ok(None);
    };
    let known = id.clone();
    let payment = state
        .db
        .read(move |c| {
            if repo::find_by_intent(c, &known)?.is_some() {
                return Ok(None);
            }
            repo::find(c, session)
        })
        .await?;
    let Some(cs) = payment
        .filter(|p| p.intent_id.is_none())
        .and_then(|p| p.checkout_session_id)
    else {
        return Ok(None);
    };
    let stripe = state.providers.stripe.as_ref().ok_or(AppError::NotFound)?;
    let checkout = stripe
        .retrieve_checkout_session(&cs)
        .await
        .map_err(held::upstream)?;
    Ok((checkout.payment_intent.as_deref() == Some(id.as_str())).then_some((session, id)))
}

fn process(
    tx: &Transaction<'_>,
    st: &AppState,
    kind: &str,
    created: i64,
    object: &Value,
    fetched: &Fetched,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let current = fetched.subscription.as_ref();
    match kind {
        "payment_intent.amount_capturable_updated" => authorized(tx, st, object, now),
        "payment_intent.succeeded" => succeeded(tx, st, object, now),
        "payment_intent.payment_failed" => {
            if let Some(p) = payment_of(tx, object)? {
                repo::transition(tx, p.session_id, &["pending"], "failed", now)?;
            }
            Ok(())
        }
        "payment_intent.canceled" => {
            if let Some(p) = payment_of(tx, object)? {
                if let Some(s) = session_row(tx, st, p.session_id)? {
                    held::record_release_in(tx, &s, now)?;
                }
            }
            Ok(())
        }
        "checkout.session.completed" => checkout_completed(tx, st, object, current, created, now),
        "charge.refunded" => refunded(tx, st, object, fetched.refunds.as_deref(), now),
        "charge.dispute.created" => disputed(tx, st, object, now),
        "invoice.paid" => invoice_paid(tx, st, object, current, created, now),
        "invoice.payment_failed" => {
            if let Some(local) = current
                .map(|sub| apply_subscription(tx, st, sub, created, now))
                .transpose()?
                .flatten()
            {
                // A failed renewal means past_due here, whatever Stripe's
                // retry schedule says yet.
                repo::set_status(tx, local.id, &["active", "trialing"], "past_due", now)?;
                renewal_failed(tx, st, &local, now)?;
            }
            Ok(())
        }
        _ => match current {
            Some(sub) => apply_subscription(tx, st, sub, created, now).map(|_| ()),
            None => Ok(()),
        },
    }
}

/// The session payment a PaymentIntent belongs to: by the intent's id
/// only, never by its metadata (an intent Checkout made is bound before,
/// once Stripe confirmed it).
fn payment_of(tx: &Transaction<'_>, intent: &Value) -> AppResult<Option<repo::SessionPayment>> {
    match text(intent, "id") {
        Some(id) => repo::find_by_intent(tx, id),
        None => Ok(None),
    }
}

fn session_row(
    tx: &Transaction<'_>,
    st: &AppState,
    id: i64,
) -> AppResult<Option<consulting_sessions::SessionRow>> {
    consulting_sessions::find(tx, &st.keys, crate::domain::ConsultingSessionId(id))
}

/// The card is held: the researcher now sees the request.
fn authorized(
    tx: &Transaction<'_>,
    st: &AppState,
    intent: &Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if text(intent, "status") != Some("requires_capture") {
        return Ok(());
    }
    let Some(p) = payment_of(tx, intent)? else {
        return Ok(());
    };
    if !repo::transition(tx, p.session_id, &["pending", "failed"], "authorized", now)? {
        return Ok(());
    }
    ledger::append(
        tx,
        &NewEntry {
            kind: "authorization",
            user_id: Some(p.user_id),
            session_id: Some(p.session_id),
            subscription_id: None,
            amount_minor: p.amount_minor,
            tax_minor: p.tax_minor,
            fee_minor: 0,
            currency: &p.currency,
            stripe_ref: text(intent, "id"),
        },
        now,
    )?;
    if let Some(s) = session_row(tx, st, p.session_id)? {
        (st.hooks.payment_authorized)(tx, st, &s, now)?;
    }
    Ok(())
}

/// Captured (by our accept, or seen here first): recorded once.
fn succeeded(
    tx: &Transaction<'_>,
    st: &AppState,
    intent: &Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(p) = payment_of(tx, intent)? else {
        return Ok(());
    };
    if p.status != "authorized" {
        return Ok(());
    }
    if let Some(s) = session_row(tx, st, p.session_id)? {
        held::record_capture_in(tx, st, &s, &p, now)?;
    }
    Ok(())
}

/// Each refund is recorded once, by its Stripe id, however many events
/// report it. Newer API versions leave `refunds` out of the charge; then the
/// list was read from Stripe (`fetched`).
fn refunded(
    tx: &Transaction<'_>,
    st: &AppState,
    charge: &Value,
    fetched: Option<&[(String, i64)]>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(intent) = text(charge, "payment_intent") else {
        return Ok(());
    };
    let Some(p) = repo::find_by_intent(tx, intent)? else {
        return Ok(());
    };
    let Some(s) = session_row(tx, st, p.session_id)? else {
        return Ok(());
    };
    let listed: Vec<(String, i64)> = match charge["refunds"]["data"].as_array() {
        Some(list) => list
            .iter()
            .filter_map(|r| Some((text(r, "id")?.to_string(), r["amount"].as_i64()?)))
            .collect(),
        None => fetched.unwrap_or_default().to_vec(),
    };
    // Oldest first, so credit notes follow the order refunds were made.
    for (id, amount) in listed.into_iter().rev() {
        let current = repo::find(tx, p.session_id)?.unwrap_or_else(|| p.clone());
        held::record_refund_in(
            tx,
            st,
            &s,
            &held::Refunded {
                payment: current,
                refund_id: id.to_string(),
                amount,
            },
            now,
        )?;
    }
    Ok(())
}

fn disputed(
    tx: &Transaction<'_>,
    st: &AppState,
    dispute: &Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let payment = match text(dispute, "payment_intent") {
        Some(i) => repo::find_by_intent(tx, i)?,
        None => None,
    };
    let currency = text(dispute, "currency").unwrap_or_default().to_uppercase();
    ledger::append(
        tx,
        &NewEntry {
            kind: "dispute",
            user_id: payment.as_ref().map(|p| p.user_id),
            session_id: payment.as_ref().map(|p| p.session_id),
            subscription_id: None,
            amount_minor: dispute["amount"].as_i64().unwrap_or(0),
            tax_minor: 0,
            fee_minor: 0,
            currency: &currency,
            stripe_ref: text(dispute, "id"),
        },
        now,
    )?;
    audit::append(
        tx,
        &st.keys,
        audit::NewEvent {
            actor: None,
            action: "payment.dispute_opened",
            target: text(dispute, "id").map(str::to_string),
            detail: serde_json::json!({"reason": dispute["reason"], "session_id": payment.map(|p| p.session_id)}),
            ip: None,
        },
        now,
    )?;
    Ok(())
}
