//! Webhook events about subscriptions: Stripe's current view of the
//! subscription is applied (never moving it backwards), renewals are
//! charged and invoiced, failed renewals make it `past_due` and tell the
//! subscriber.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Transaction;

use super::invoices::{self, Charge};
use crate::db::repos::ledger::{self, NewEntry};
use crate::db::repos::payments as repo;
use crate::db::repos::subscriptions::{self as subs, StripeState};
use crate::domain::money::Money;
use crate::domain::SubscriptionStatus;
use crate::error::{AppError, AppResult};
use crate::providers::stripe::{
    self as stripe, metadata, CheckoutSession, CheckoutSessionMode,
    Subscription as StripeSubscription,
};
use crate::state::AppState;
use stripe_shared::Invoice;

fn ts_of(unix: Option<i64>) -> Option<DateTime<Utc>> {
    unix.and_then(|t| Utc.timestamp_opt(t, 0).single())
}

/// Stripe's status of a subscription as ours (the same names); one Stripe
/// adds later fails the event, which Stripe then retries.
fn local_status(sub: &StripeSubscription) -> AppResult<SubscriptionStatus> {
    sub.status.as_str().parse().map_err(AppError::internal)
}

/// Applies Stripe's current view of a subscription (older events never
/// move it backwards).
pub(super) fn apply_subscription(
    tx: &Transaction<'_>,
    _st: &AppState,
    sub: &StripeSubscription,
    event_at: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<subs::Subscription>> {
    let local = match subs::find_by_stripe(tx, &sub.id)? {
        Some(l) => Some(l),
        None => metadata::subscription_of(&sub.metadata)
            .map(|id| subs::find_subscription(tx, id))
            .transpose()?
            .flatten(),
    };
    let Some(local) = local else {
        return Ok(None);
    };
    let (start, end) = stripe::period(sub);
    let status = local_status(sub)?;
    subs::apply_stripe_state(
        tx,
        local.id,
        &StripeState {
            stripe_id: &sub.id,
            status,
            period_start: ts_of(start),
            period_end: ts_of(end),
            cancel_at_period_end: sub.cancel_at_period_end,
            event_at,
        },
        now,
    )?;
    subs::find_subscription(tx, local.id)
}

pub(super) fn checkout_completed(
    tx: &Transaction<'_>,
    st: &AppState,
    session: &CheckoutSession,
    current: Option<&StripeSubscription>,
    created: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let cs = session.id.as_str();
    match session.mode {
        // The payment is found by the Checkout Session we made for it (its
        // id is stored), never by metadata; it takes the intent only once.
        CheckoutSessionMode::Payment => {
            let Some(intent) = &session.payment_intent else {
                return Ok(());
            };
            if let Some(p) = repo::find_by_checkout_session(tx, cs)? {
                if p.intent_id.is_none() {
                    repo::set_intent(tx, p.session_id, intent.id().as_str(), now)?;
                }
            }
            Ok(())
        }
        CheckoutSessionMode::Subscription => {
            if let Some(sub) = current {
                if let Some(local) = subs::find_by_checkout(tx, cs)? {
                    subs::apply_stripe_state(
                        tx,
                        local.id,
                        &StripeState {
                            stripe_id: &sub.id,
                            status: local_status(sub)?,
                            period_start: ts_of(stripe::period(sub).0),
                            period_end: ts_of(stripe::period(sub).1),
                            cancel_at_period_end: sub.cancel_at_period_end,
                            event_at: created,
                        },
                        now,
                    )?;
                }
            }
            let _ = st;
            Ok(())
        }
        _ => Ok(()),
    }
}

pub(super) fn invoice_paid(
    tx: &Transaction<'_>,
    st: &AppState,
    invoice: &Invoice,
    current: Option<&StripeSubscription>,
    created: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(sub) = current else {
        return Ok(());
    };
    let Some(local) = apply_subscription(tx, st, sub, created, now)? else {
        return Ok(());
    };
    let amount = stripe::money(invoice.amount_paid, &invoice.currency).ok_or_else(|| {
        AppError::internal(format!(
            "invoice in {}, not an ISO 4217 currency",
            invoice.currency
        ))
    })?;
    let tax = Money::new(
        invoice
            .total_taxes
            .as_ref()
            .map_or(0, |t| t.iter().map(|x| x.amount).sum()),
        amount.currency,
    );
    let invoice_id = invoice.id.as_ref().map(|i| i.to_string());
    let Some(entry) = ledger::append(
        tx,
        &NewEntry {
            kind: "subscription_charge",
            user_id: Some(local.user_id),
            session_id: None,
            subscription_id: Some(local.id),
            amount,
            tax_minor: tax.minor,
            fee_minor: 0,
            stripe_ref: invoice_id.as_deref(),
        },
        now,
    )?
    else {
        return Ok(());
    };
    let plan = st
        .config
        .plans
        .iter()
        .find(|p| p.id == local.plan_id)
        .map_or(local.plan_id.clone(), |p| p.name.clone());
    invoices::issue_in(
        tx,
        st,
        local.user_id,
        entry,
        &Charge {
            kind: "invoice",
            description: format!("Subscription: {plan}"),
            gross: amount,
            tax,
            rate: None,
            credits_invoice_id: None,
        },
        now,
    )?;
    Ok(())
}

/// Tells the subscriber a renewal failed, with a link to update the card.
pub(super) fn renewal_failed(
    tx: &Transaction<'_>,
    st: &AppState,
    sub: &subs::Subscription,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(user) = crate::db::repos::users::find(tx, &st.keys, sub.user_id)? else {
        return Ok(());
    };
    let m = crate::services::mail::templates::Notice {
        institution: st.config.institution.brand(),
        name: user.name.clone(),
        headline: "We could not renew your subscription.".into(),
        lines: vec![
            "Your card was declined. Until the payment goes through, your plan's benefits are paused.".into(),
            "Update your card, and Stripe will try again.".into(),
        ],
        action_label: "Update your card".into(),
        action_url: format!("{}/account#subscription", st.config.public_url()),
    };
    let content =
        crate::services::mail::templates::notice("Your subscription payment failed".into(), &m)?;
    let to = crate::domain::Email::parse(&user.email).map_err(AppError::internal)?;
    crate::services::mail::enqueue_unless_opted_out_in(
        tx,
        st,
        &crate::services::mail::Outgoing {
            template: "subscription_payment_failed",
            to,
            content,
        },
        now,
    )
    .map(|_| ())
}
