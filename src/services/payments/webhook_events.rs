//! What each Stripe event Colloquy handles does, matched on async-stripe's
//! typed objects inside the event's transaction.

use chrono::{DateTime, Utc};
use rusqlite::Transaction;
use stripe_shared::{Charge, Dispute, Invoice};
use stripe_webhook::EventObject;

use super::chargebacks;
use super::held;
use super::subscription_events::{
    apply_subscription, checkout_completed, invoice_paid, renewal_failed,
};
use crate::db::repos::audit;
use crate::db::repos::consulting_sessions;
use crate::db::repos::ledger::{self, NewEntry};
use crate::db::repos::payments as repo;
use crate::db::repos::subscriptions;
use crate::domain::money::Money;
use crate::domain::{ConsultingSessionId, PaymentStatus, SubscriptionStatus};
use crate::error::{AppError, AppResult};
use crate::providers::stripe::{
    self as stripe, CheckoutSession, PaymentIntent, PaymentIntentStatus, Subscription,
};
use crate::state::AppState;

/// An event Colloquy acts on, with its typed object.
#[derive(Debug)]
pub enum Handled {
    /// `payment_intent.amount_capturable_updated`: the card is held.
    Capturable(Box<PaymentIntent>),
    Succeeded(Box<PaymentIntent>),
    PaymentFailed(Box<PaymentIntent>),
    Canceled(Box<PaymentIntent>),
    CheckoutCompleted(Box<CheckoutSession>),
    ChargeRefunded(Box<Charge>),
    /// `charge.dispute.created`: a chargeback.
    DisputeCreated(Box<Dispute>),
    DisputeUpdated(Box<Dispute>),
    DisputeClosed(Box<Dispute>),
    InvoicePaid(Box<Invoice>),
    InvoicePaymentFailed(Box<Invoice>),
    /// `customer.subscription.created`, `.updated` or `.deleted`.
    SubscriptionChanged(Box<Subscription>),
}

impl Handled {
    /// The event types above, as Stripe names them.
    pub const KINDS: &'static [&'static str] = &[
        "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "checkout.session.completed",
        "charge.refunded",
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ];

    pub fn from_object(object: EventObject) -> Option<Self> {
        use EventObject as E;
        Some(match object {
            E::PaymentIntentAmountCapturableUpdated(pi) => Handled::Capturable(pi),
            E::PaymentIntentSucceeded(pi) => Handled::Succeeded(pi),
            E::PaymentIntentPaymentFailed(pi) => Handled::PaymentFailed(pi),
            E::PaymentIntentCanceled(pi) => Handled::Canceled(pi),
            E::CheckoutSessionCompleted(cs) => Handled::CheckoutCompleted(cs),
            E::ChargeRefunded(c) => Handled::ChargeRefunded(c),
            E::ChargeDisputeCreated(d) => Handled::DisputeCreated(d),
            E::ChargeDisputeUpdated(d) => Handled::DisputeUpdated(d),
            E::ChargeDisputeClosed(d) => Handled::DisputeClosed(d),
            E::InvoicePaid(i) => Handled::InvoicePaid(i),
            E::InvoicePaymentFailed(i) => Handled::InvoicePaymentFailed(i),
            E::CustomerSubscriptionCreated(s)
            | E::CustomerSubscriptionUpdated(s)
            | E::CustomerSubscriptionDeleted(s) => Handled::SubscriptionChanged(s),
            _ => return None,
        })
    }

    /// The Stripe subscription the event is about, if any: read from
    /// Stripe before applying, since events arrive out of order.
    pub fn subscription_ref(&self) -> Option<String> {
        match self {
            Handled::SubscriptionChanged(s) => Some(s.id.to_string()),
            Handled::InvoicePaid(i) | Handled::InvoicePaymentFailed(i) => i
                .subscription
                .as_ref()
                .map(|s| s.id().to_string())
                .or_else(|| {
                    let parent = i.parent.as_ref()?.subscription_details.as_ref()?;
                    Some(parent.subscription.id().to_string())
                }),
            Handled::CheckoutCompleted(cs) => cs.subscription.as_ref().map(|s| s.id().to_string()),
            _ => None,
        }
    }

    /// The PaymentIntent of a `payment_intent.*` event.
    pub fn payment_intent(&self) -> Option<&PaymentIntent> {
        match self {
            Handled::Capturable(pi)
            | Handled::Succeeded(pi)
            | Handled::PaymentFailed(pi)
            | Handled::Canceled(pi) => Some(pi),
            _ => None,
        }
    }
}

/// What Stripe says about an event's objects, read before the transaction.
#[derive(Default)]
pub struct Fetched {
    /// The subscription, where event order matters.
    pub subscription: Option<Subscription>,
    /// A reader's Checkout made this intent: (session id, intent id).
    pub checkout_intent: Option<(crate::domain::ConsultingSessionId, String)>,
    /// Every refund of the charge's intent, when the event leaves them out.
    pub refunds: Option<Vec<(String, i64)>>,
}

pub fn process(
    tx: &Transaction<'_>,
    st: &AppState,
    handled: &Handled,
    created: i64,
    fetched: &Fetched,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let current = fetched.subscription.as_ref();
    match handled {
        Handled::Capturable(pi) => authorized(tx, st, pi, now),
        Handled::Succeeded(pi) => succeeded(tx, st, pi, now),
        Handled::PaymentFailed(pi) => payment_failed(tx, pi, now),
        Handled::Canceled(pi) => {
            if let Some(p) = payment_of(tx, pi)? {
                if let Some(s) = session_row(tx, st, p.session_id)? {
                    held::record_release_in(tx, &s, now)?;
                }
            }
            Ok(())
        }
        Handled::CheckoutCompleted(cs) => checkout_completed(tx, st, cs, current, created, now),
        Handled::ChargeRefunded(c) => refunded(tx, st, c, fetched.refunds.as_deref(), now),
        Handled::DisputeCreated(d) => {
            disputed(tx, st, d, now)?;
            chargebacks::follow(tx, st, d, false, now)
        }
        Handled::DisputeUpdated(d) => chargebacks::follow(tx, st, d, false, now),
        Handled::DisputeClosed(d) => chargebacks::follow(tx, st, d, true, now),
        Handled::InvoicePaid(i) => invoice_paid(tx, st, i, current, created, now),
        Handled::InvoicePaymentFailed(_) => {
            if let Some(local) = current
                .map(|sub| apply_subscription(tx, st, sub, created, now))
                .transpose()?
                .flatten()
            {
                // A failed renewal means past_due here, whatever Stripe's
                // retry schedule says yet.
                let live = [SubscriptionStatus::Active, SubscriptionStatus::Trialing];
                subscriptions::set_status(tx, local.id, &live, SubscriptionStatus::PastDue, now)?;
                renewal_failed(tx, st, &local, now)?;
            }
            Ok(())
        }
        Handled::SubscriptionChanged(_) => match current {
            Some(sub) => apply_subscription(tx, st, sub, created, now).map(|_| ()),
            None => Ok(()),
        },
    }
}

/// The session payment a PaymentIntent belongs to: by the intent's id
/// only, never by its metadata (an intent Checkout made is bound before,
/// once Stripe confirmed it).
fn payment_of(
    tx: &Transaction<'_>,
    intent: &PaymentIntent,
) -> AppResult<Option<repo::SessionPayment>> {
    repo::find_by_intent(tx, intent.id.as_str())
}

fn session_row(
    tx: &Transaction<'_>,
    st: &AppState,
    id: ConsultingSessionId,
) -> AppResult<Option<consulting_sessions::SessionRow>> {
    consulting_sessions::find(tx, &st.keys, id)
}

/// The card is held: the researcher now sees the request.
fn authorized(
    tx: &Transaction<'_>,
    st: &AppState,
    intent: &PaymentIntent,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if intent.status != PaymentIntentStatus::RequiresCapture {
        return Ok(());
    }
    let Some(p) = payment_of(tx, intent)? else {
        return Ok(());
    };
    if !held::record_authorization_in(tx, &p, now)? {
        return Ok(());
    }
    if let Some(s) = session_row(tx, st, p.session_id)? {
        (st.hooks.payment_authorized)(tx, st, &s, now)?;
    }
    Ok(())
}

/// A declined card: the payment is `failed` (the reader may try again
/// within the payment window) and the ledger shows the attempt, though no
/// money moved.
fn payment_failed(
    tx: &Transaction<'_>,
    intent: &PaymentIntent,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(p) = payment_of(tx, intent)? else {
        return Ok(());
    };
    let pending = [PaymentStatus::Pending];
    if repo::transition(tx, p.session_id, &pending, PaymentStatus::Failed, now)? {
        ledger::append(
            tx,
            &p.entry("payment_failed", 0, Some(intent.id.as_str())),
            now,
        )?;
    }
    Ok(())
}

/// Captured (by our accept, or seen here first): recorded once.
fn succeeded(
    tx: &Transaction<'_>,
    st: &AppState,
    intent: &PaymentIntent,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(p) = payment_of(tx, intent)? else {
        return Ok(());
    };
    if p.status != PaymentStatus::Authorized {
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
    charge: &Charge,
    fetched: Option<&[(String, i64)]>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(intent) = &charge.payment_intent else {
        return Ok(());
    };
    let Some(p) = repo::find_by_intent(tx, intent.id().as_str())? else {
        return Ok(());
    };
    let Some(s) = session_row(tx, st, p.session_id)? else {
        return Ok(());
    };
    let listed: Vec<(String, i64)> = match &charge.refunds {
        Some(list) => list
            .data
            .iter()
            .map(|r| (r.id.to_string(), r.amount))
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
                refund_id: id,
                amount: Money::new(amount, p.currency),
            },
            now,
        )?;
    }
    Ok(())
}

fn disputed(
    tx: &Transaction<'_>,
    st: &AppState,
    dispute: &Dispute,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let payment = match &dispute.payment_intent {
        Some(i) => repo::find_by_intent(tx, i.id().as_str())?,
        None => None,
    };
    let amount = stripe::money(dispute.amount, &dispute.currency).ok_or_else(|| {
        AppError::internal(format!(
            "dispute in {}, not an ISO 4217 currency",
            dispute.currency
        ))
    })?;
    ledger::append(
        tx,
        &NewEntry {
            kind: "dispute",
            user_id: payment.as_ref().map(|p| p.user_id),
            session_id: payment.as_ref().map(|p| p.session_id),
            subscription_id: None,
            amount,
            tax_minor: 0,
            fee_minor: 0,
            stripe_ref: Some(dispute.id.as_str()),
        },
        now,
    )?;
    audit::append(
        tx,
        &st.keys,
        audit::NewEvent {
            actor: None,
            action: "payment.dispute_opened",
            target: Some(dispute.id.to_string()),
            detail: serde_json::json!({"reason": dispute.reason, "session_id": payment.map(|p| p.session_id)}),
            ip: None,
        },
        now,
    )?;
    Ok(())
}
