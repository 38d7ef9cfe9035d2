//! `POST /api/v1/webhooks/stripe`: signed events keep the local state true
//! even when they arrive twice, late or out of order. async-stripe checks
//! the signature and parses the typed event; an event is stored by id in
//! the same transaction as its effects, so a replay is a no-op and a
//! failure leaves nothing behind (Stripe retries on the 500).

use std::net::IpAddr;

use serde::Deserialize;
use stripe_webhook::{Webhook, WebhookError};

use super::held;
use super::webhook_events::{self, Fetched, Handled};
use crate::db::repos::billing;
use crate::db::repos::payments as repo;
use crate::db::repos::subscriptions;
use crate::domain::ConsultingSessionId;
use crate::error::{AppError, AppResult};
use crate::providers::stripe::{metadata, PaymentIntent};
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

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `t=` or no `v1=` in the header.
    Malformed,
    /// `t` is too far from now (a replayed or delayed request).
    Stale,
    /// No `v1` value matches.
    Mismatch,
}

impl SignatureError {
    pub fn message(self) -> &'static str {
        match self {
            SignatureError::Malformed => "The Stripe-Signature header is missing or malformed.",
            SignatureError::Stale => "The Stripe-Signature timestamp is outside the tolerance.",
            SignatureError::Mismatch => "No Stripe-Signature value matches this payload.",
        }
    }
}

/// A correctly signed event.
#[derive(Debug)]
pub enum Signed {
    /// Parsed into async-stripe's typed event.
    Event(Box<stripe_webhook::Event>),
    /// Signed, but its object does not parse as the API version Colloquy
    /// speaks ([`crate::providers::stripe::api_version`]).
    Unreadable,
}

/// When the header says the payload was signed: `t=`, with at least one
/// `v1=` beside it. The tolerance is ours (`webhook_tolerance_secs`);
/// async-stripe's is a fixed five minutes, so it checks the signature
/// at this very time.
fn signed_at(header: &str) -> Option<i64> {
    let mut parts = header.split(',').filter_map(|p| p.split_once('='));
    let t = parts.clone().find(|(k, _)| *k == "t")?.1.parse().ok()?;
    parts.any(|(k, _)| k == "v1").then_some(t)
}

/// Checks a `Stripe-Signature` header against the raw body with
/// async-stripe; any one `v1` may match (Stripe signs with every active
/// secret while one is rolled).
pub fn verify(
    header: &str,
    payload: &str,
    secret: &str,
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<Signed, SignatureError> {
    let t = signed_at(header).ok_or(SignatureError::Malformed)?;
    if (now_unix - t).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    match Webhook::construct_event_with_timestamp(payload, header, secret, t) {
        Ok(event) => Ok(Signed::Event(Box::new(event))),
        Err(WebhookError::BadParse(_)) => Ok(Signed::Unreadable),
        Err(WebhookError::BadSignature) => Err(SignatureError::Mismatch),
        Err(WebhookError::BadTimestamp(_)) => Err(SignatureError::Stale),
        Err(WebhookError::BadHeader(_) | WebhookError::BadKey) => Err(SignatureError::Malformed),
    }
}

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

/// The envelope of an event whose object did not parse.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    created: i64,
}

/// An event to record: its id, type and time, and what Colloquy does.
struct Received {
    id: String,
    kind: String,
    created: i64,
    handled: Option<Handled>,
}

fn receive(signed: Signed, payload: &str) -> AppResult<Received> {
    match signed {
        Signed::Event(event) => {
            let event = *event;
            Ok(Received {
                id: event.id.to_string(),
                kind: event.type_.as_str().to_string(),
                created: event.created,
                handled: Handled::from_object(event.data.object),
            })
        }
        Signed::Unreadable => {
            let value: serde_json::Value =
                serde_json::from_str(payload).map_err(|_| bad("The event is not JSON."))?;
            let e =
                Envelope::deserialize(value).map_err(|_| bad("The event has no id or type."))?;
            if Handled::KINDS.contains(&e.kind.as_str()) {
                tracing::warn!(event = %e.id, kind = %e.kind, api_version = crate::providers::stripe::api_version(), "stripe event not readable");
                return Err(bad(&format!(
                    "The {} object does not parse as Stripe API version {}; set the webhook endpoint to that version.",
                    e.kind,
                    crate::providers::stripe::api_version()
                )));
            }
            Ok(Received {
                id: e.id,
                kind: e.kind,
                created: e.created,
                handled: None,
            })
        }
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
    let payload = std::str::from_utf8(body).map_err(|_| bad("The event is not JSON."))?;
    let signed = verify(
        signature_header.unwrap_or_default(),
        payload,
        cfg.webhook_secret.expose(),
        now.timestamp(),
        cfg.webhook_tolerance_secs,
    )
    .map_err(|e| bad(e.message()))?;
    let Received {
        id,
        kind,
        created,
        handled,
    } = receive(signed, payload)?;
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
    let fetched = match &handled {
        Some(h) => fetch(state, h).await?,
        None => Fetched::default(),
    };
    let st = state.clone();
    let outcome = state
        .db
        .write(move |tx| {
            if !billing::record_event(tx, &id, &kind, created, now)? {
                return Ok(Outcome::Replayed);
            }
            let Some(handled) = &handled else {
                return Ok(Outcome::Ignored);
            };
            if let Some((session, intent)) = &fetched.checkout_intent {
                // Stripe confirmed the reader's Checkout made this intent.
                if repo::find(tx, *session)?.is_some_and(|p| p.intent_id.is_none()) {
                    repo::set_intent(tx, *session, intent, now)?;
                }
            }
            webhook_events::process(tx, &st, handled, created, &fetched, now)?;
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

async fn fetch(state: &AppState, handled: &Handled) -> AppResult<Fetched> {
    let stripe = super::client::stripe(state)?;
    let mut fetched = Fetched::default();
    if let Some(sub) = handled.subscription_ref() {
        let mut current = stripe
            .retrieve_subscription(&sub)
            .await
            .map_err(held::upstream)?;
        if !matches!(handled, Handled::CheckoutCompleted(_)) {
            link_through_checkout(state, stripe, &mut current).await?;
        }
        fetched.subscription = Some(current);
    }
    if let Some(intent) = handled.payment_intent() {
        fetched.checkout_intent = checkout_intent(state, intent).await?;
    }
    if let Handled::ChargeRefunded(charge) = handled {
        if let (None, Some(intent)) = (&charge.refunds, &charge.payment_intent) {
            let intent = intent.id().to_string();
            let known = intent.clone();
            if state
                .db
                .read(move |c| repo::find_by_intent(c, &known))
                .await?
                .is_some()
            {
                let list = stripe.list_refunds(&intent).await.map_err(held::upstream)?;
                fetched.refunds = Some(
                    list.into_iter()
                        .map(|r| (r.id.to_string(), r.amount))
                        .collect(),
                );
            }
        }
    }
    Ok(fetched)
}

/// A subscription Colloquy started names only its user: its row is
/// written after Stripe made the Checkout Session and is found by that
/// session's id. An event that comes before `checkout.session.completed`
/// linked the two (an `invoice.paid` often does) finds the row through
/// the Checkout Session Stripe says the subscription was bought with, and
/// notes it on the fetched subscription, where older subscriptions carry
/// it from the start. A failure to ask answers 502; Stripe retries.
async fn link_through_checkout(
    state: &AppState,
    stripe: &crate::providers::stripe::StripeClient,
    sub: &mut crate::providers::stripe::Subscription,
) -> AppResult<()> {
    let Some(user) = metadata::user_of(&sub.metadata) else {
        return Ok(());
    };
    if metadata::subscription_of(&sub.metadata).is_some() {
        return Ok(());
    }
    let known = sub.id.to_string();
    if state
        .db
        .read(move |c| subscriptions::find_by_stripe(c, &known))
        .await?
        .is_some()
    {
        return Ok(());
    }
    let Some(cs) = stripe
        .checkout_of_subscription(sub.id.as_str())
        .await
        .map_err(held::upstream)?
    else {
        return Ok(());
    };
    let local = state
        .db
        .read(move |c| subscriptions::find_by_checkout(c, &cs))
        .await?;
    if let Some(local) = local.filter(|l| l.user_id == user) {
        metadata::link_subscription(&mut sub.metadata, local.id);
    }
    Ok(())
}

/// An intent we do not know yet may come from a reader's Checkout: the
/// event's metadata only says where to look; Stripe's own Checkout Session
/// must name this very intent before the payment is bound to it.
async fn checkout_intent(
    state: &AppState,
    intent: &PaymentIntent,
) -> AppResult<Option<(ConsultingSessionId, String)>> {
    let id = intent.id.to_string();
    let Some(session) = metadata::session_of(&intent.metadata) else {
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
    let stripe = super::client::stripe(state)?;
    let checkout = stripe
        .retrieve_checkout_session(&cs)
        .await
        .map_err(held::upstream)?;
    let made = checkout.payment_intent.as_ref().map(|i| i.id().as_str());
    Ok((made == Some(id.as_str())).then_some((session, id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Any header and body get a typed answer, never a panic; a header
        /// nobody signed never verifies.
        #[test]
        fn any_signature_header_gets_a_typed_answer(
            header in "\\PC{0,80}|t=[0-9]{0,12}(,v1=[0-9a-f]{0,64}){0,3}",
            body in "\\PC{0,60}",
            now in 0i64..4_000_000_000,
        ) {
            let answer = verify(&header, &body, "whsec_test", now, 300);
            proptest::prop_assert!(answer.is_err());
        }
    }

    fn vector() -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/stripe/webhook_signature_vector.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn header_for(body: &str, secret: &str, t: i64) -> String {
        Webhook::generate_test_header(body, secret, Some(t))
    }

    #[test]
    fn the_published_vector_verifies() {
        let v = vector();
        let body = v["raw_body"].as_str().unwrap();
        let secret = v["endpoint_secret"].as_str().unwrap();
        let t = v["timestamp"].as_i64().unwrap();
        let header = v["Stripe-Signature"].as_str().unwrap();
        assert_eq!(header_for(body, secret, t), header);
        assert!(verify(header, body, secret, t + 10, 300).is_ok());
    }

    #[test]
    fn any_one_of_several_v1_values_may_match() {
        let v = vector();
        let body = v["raw_body"].as_str().unwrap();
        let t = v["timestamp"].as_i64().unwrap();
        let good = v["expected_v1"].as_str().unwrap();
        let header = format!("t={t},v1={},v0=abc,v1={good}", "00".repeat(32));
        assert!(verify(&header, body, "whsec_test_secret", t, 300).is_ok());
    }

    #[test]
    fn bad_stale_and_malformed_signatures_are_refused() {
        let v = vector();
        let body = v["raw_body"].as_str().unwrap();
        let t = v["timestamp"].as_i64().unwrap();
        let header = v["Stripe-Signature"].as_str().unwrap();
        let err = |h: &str, b: &str, secret: &str, now: i64| verify(h, b, secret, now, 300).err();
        assert_eq!(
            err(header, body, "whsec_other", t),
            Some(SignatureError::Mismatch)
        );
        let changed = body.replacen('e', "f", 1);
        assert_eq!(
            err(header, &changed, "whsec_test_secret", t),
            Some(SignatureError::Mismatch)
        );
        assert_eq!(
            err(header, body, "whsec_test_secret", t + 301),
            Some(SignatureError::Stale)
        );
        assert_eq!(
            err(header, body, "whsec_test_secret", t - 301),
            Some(SignatureError::Stale)
        );
        for bad in ["", "t=abc,v1=00", &format!("t={t}"), "v1=00"] {
            assert_eq!(
                err(bad, body, "whsec_test_secret", t),
                Some(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_tolerance_is_the_configured_one_not_the_libraries_five_minutes() {
        let v = vector();
        let body = v["raw_body"].as_str().unwrap();
        let t = v["timestamp"].as_i64().unwrap();
        let header = v["Stripe-Signature"].as_str().unwrap();
        assert!(verify(header, body, "whsec_test_secret", t + 900, 1200).is_ok());
        assert_eq!(
            verify(header, body, "whsec_test_secret", t + 61, 60).err(),
            Some(SignatureError::Stale)
        );
    }
}
