//! Held payments for priced sessions: authorised when the reader pays
//! (a PaymentIntent with `capture_method=manual`), captured when the
//! researcher accepts, released on decline, expiry or an early cancel, and
//! refunded by the policy tiers after accept. Each Stripe call happens
//! before the transaction that records it, so a failed call changes
//! nothing here; the session, the payment and the ledger then change in
//! one transaction.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::client::stripe;
pub use super::client::{enabled, upstream};
use super::invoices::{self, Charge};
use super::pricing;
pub use super::views::IntentView;
use crate::db::repos::consulting_sessions::SessionRow;
use crate::db::repos::ledger;
use crate::db::repos::payments::{self as repo, NewPayment, SessionPayment};
use crate::db::repos::{billing, consulting_sessions, plan_credits, users};
use crate::domain::money::Currency;
use crate::domain::money::Money;
use crate::domain::text;
use crate::domain::{ConsultingSessionId, PaymentStatus, SessionStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::providers::stripe::{CheckoutFor, PaymentIntentStatus};
use crate::providers::ProviderError;
use crate::state::AppState;

/// At booking, inside its transaction: a priced session gets a pending
/// payment and stays hidden from the researcher until it is authorised;
/// unpaid, it holds its slot for `payment_window_minutes` only. A
/// subscriber's included session is spent instead (a `plan_credits` row).
/// Returns whether the researcher should be told now.
pub fn on_book(
    conn: &Connection,
    state: &AppState,
    s: &mut SessionRow,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if !enabled(state) || s.price_minor == 0 {
        return Ok(true);
    }
    let listed = Money::new(
        s.price_minor,
        Currency::parse(&s.currency).map_err(AppError::internal)?,
    );
    let q = pricing::quote(conn, state, s.reader_id, listed, now)?;
    if let Some((sub, period_end)) = &q.included_by {
        plan_credits::spend(conn, *sub, s.reader_id, s.id, period_end, now)?;
        return Ok(true);
    }
    if q.price.gross.is_zero() {
        return Ok(true);
    }
    let cfg = &state.config.payments;
    let unpaid = repo::unpaid_requests(conn, s.reader_id, now)?;
    if unpaid.len() as i64 >= cfg.max_unpaid_requests {
        let first_free = unpaid.first().copied().unwrap_or(now);
        return Err(AppError::OverQuota {
            code: "too_many_unpaid_requests",
            message: format!(
                "You have {} waiting for payment. Pay for one of them, or wait until one lapses (unpaid requests lapse after {}), before you book another.",
                text::count(unpaid.len() as i64, "request"),
                text::count(cfg.payment_window_minutes, "minute")
            ),
            retry_after_secs: u64::try_from((first_free - now).num_seconds().max(1)).unwrap_or(1),
        });
    }
    let rate = q.price.rate.as_ref();
    repo::insert(
        conn,
        &NewPayment {
            session_id: s.id,
            user_id: s.reader_id,
            amount: q.price.gross,
            tax: q.price.tax,
            discount: q.discount,
            tax_name: rate.map(|r| r.name.as_str()),
            tax_basis_points: rate.map(|r| r.basis_points),
        },
        now,
    )?;
    s.expires_at = payment_deadline(state, s, now);
    s.payment_status = Some(PaymentStatus::Pending);
    consulting_sessions::set_expires_at(conn, s.id, s.expires_at)?;
    Ok(false)
}

/// Until when an unpaid request holds its slot: the payment window, and
/// never past the start.
pub fn payment_deadline(state: &AppState, s: &SessionRow, now: DateTime<Utc>) -> DateTime<Utc> {
    let window = chrono::Duration::minutes(state.config.payments.payment_window_minutes);
    (now + window).min(s.start)
}

/// The answer deadline of a priced request once its card is held: the
/// earliest of the request's TTL, the hold's validity less its margin
/// (`authorization_validity_hours`) and the start. The TTL runs from the
/// booking, or from this hold when an earlier one lapsed (the researcher
/// was about to accept; they get a full answer time again).
pub fn answer_deadline(
    state: &AppState,
    s: &SessionRow,
    ttl_hours: i64,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let since = if s.hold_lapsed { now } else { s.created_at };
    let ttl = since + chrono::Duration::hours(ttl_hours);
    let hold = now + chrono::Duration::hours(state.config.payments.authorization_validity_hours);
    ttl.min(hold).min(s.start)
}

/// Whether the researcher may see the session: free, or its card was
/// held at some point. Matches the researcher's list
/// (`consulting_sessions::PAID`).
pub fn visible_to_researcher(p: Option<&SessionPayment>) -> bool {
    p.is_none_or(|p| p.ever_held)
}

/// The unpaid payment of a reader's session (the sessions layer checked
/// that the caller is its reader): pending, or failed (a declined card may
/// try again), inside the payment window.
async fn payable(state: &AppState, row: &SessionRow) -> AppResult<SessionPayment> {
    let id = row.id;
    let payment = state
        .db
        .read(move |c| repo::find(c, id))
        .await?
        .ok_or_else(|| AppError::conflict("nothing_to_pay", "This session costs nothing."))?;
    if row.status != SessionStatus::Requested || !payment.unpaid() {
        return Err(AppError::conflict(
            "not_payable",
            format!(
                "The payment is {}; there is nothing to pay now.",
                payment.status
            ),
        ));
    }
    if state.now() >= row.expires_at {
        return Err(AppError::conflict(
            "payment_window_over",
            "The time to pay for this request is over; the slot is free again. Book a new time.",
        ));
    }
    Ok(payment)
}

/// After a declined card (`failed`): the old intent is cancelled at
/// Stripe and the payment starts its next attempt, under new idempotency
/// keys, with no live intent until the caller makes one.
async fn next_attempt(state: &AppState, p: SessionPayment) -> AppResult<SessionPayment> {
    if p.status != PaymentStatus::Failed {
        return Ok(p);
    }
    if let Some(old) = &p.intent_id {
        cancel_at_stripe(state, &p, old).await?;
    }
    let (id, attempt, now) = (p.session_id, p.attempt, state.now());
    state
        .db
        .write(move |tx| {
            repo::next_attempt(tx, id, attempt, None, now)?;
            repo::find(tx, id)?.ok_or(AppError::NotFound)
        })
        .await
}

/// Cancels `intent` (one of `p`'s attempts). Stripe refuses to cancel an
/// intent that is already cancelled or captured: then look which, and
/// never keep money for a payment that is being let go.
async fn cancel_at_stripe(state: &AppState, p: &SessionPayment, intent: &str) -> AppResult<LetGo> {
    let client = stripe(state)?;
    match client.cancel_intent(intent, &p.key("cancel")).await {
        Ok(_) => Ok(LetGo::Released),
        Err(ProviderError::Status { status: 400, .. }) => {
            let now = client
                .retrieve_payment_intent(intent)
                .await
                .map_err(upstream)?;
            match now.status {
                PaymentIntentStatus::Canceled => Ok(LetGo::Released),
                PaymentIntentStatus::Succeeded => {
                    tracing::warn!(session = %p.session_id, "releasing a captured payment: refunding it in full");
                    let amount = now.amount_received.max(now.amount);
                    let r = client
                        .refund(intent, amount, &p.key("release-refund"))
                        .await
                        .map_err(upstream)?;
                    Ok(LetGo::Refunded {
                        refund_id: r.id.to_string(),
                        amount: Money::new(r.amount, p.currency),
                    })
                }
                other => Err(AppError::Upstream {
                    code: "payment_provider_failed",
                    message: format!("Stripe could not cancel the payment ({other}); try again."),
                }),
            }
        }
        Err(e) => Err(upstream(e)),
    }
}

/// The user's Stripe customer, made on first use.
pub async fn customer(state: &AppState, user: UserId) -> AppResult<String> {
    let keys = state.keys.clone();
    let (profile, account) = state
        .db
        .read(move |c| Ok((billing::find(c, &keys, user)?, users::find(c, &keys, user)?)))
        .await?;
    if let Some(id) = profile.and_then(|p| p.stripe_customer_id) {
        return Ok(id);
    }
    let account = account.ok_or(AppError::NotFound)?;
    let created = stripe(state)?
        .create_customer(&account.email, &account.name, user)
        .await
        .map_err(upstream)?;
    let (id, now) = (created.id.to_string(), state.now());
    let stored = id.clone();
    state
        .db
        .write(move |tx| billing::set_customer(tx, user, &stored, now))
        .await?;
    Ok(id)
}

/// `POST /consulting/payments/intent`: a manual-capture PaymentIntent for
/// the session of `reader`. After a declined card it is a fresh attempt:
/// the old intent is cancelled and the new one is the only live intent.
pub async fn create_intent(
    state: &AppState,
    reader: UserId,
    row: &SessionRow,
) -> AppResult<IntentView> {
    let payment = next_attempt(state, payable(state, row).await?).await?;
    let id = row.id;
    let client = stripe(state)?;
    let intent = match &payment.intent_id {
        Some(existing) => client.retrieve_payment_intent(existing).await,
        None => {
            let customer = customer(state, reader).await?;
            client
                .create_payment_intent(payment.amount(), &customer, id, &payment.key("intent"))
                .await
        }
    }
    .map_err(upstream)?;
    let (intent_id, now) = (intent.id.to_string(), state.now());
    state
        .db
        .write(move |tx| repo::set_intent(tx, id, &intent_id, now))
        .await?;
    Ok(IntentView {
        payment_intent_id: intent.id.to_string(),
        client_secret: intent.client_secret.unwrap_or_default(),
        amount: payment.amount_minor,
        tax: payment.tax_minor,
        currency: payment.currency.code().to_string(),
        attempt: payment.attempt,
        pay_by: row.expires_at,
    })
}

/// A hosted Checkout page with the same manual capture; returns its URL.
pub async fn checkout(state: &AppState, reader: UserId, row: &SessionRow) -> AppResult<String> {
    let payment = next_attempt(state, payable(state, row).await?).await?;
    let id = row.id;
    let customer = customer(state, reader).await?;
    let back = format!("{}/sessions/{id}", state.config.public_url());
    let what = CheckoutFor::Session {
        id,
        amount: payment.amount(),
        product: format!("Consulting session with {}", row.researcher_name),
        key: payment.key("checkout"),
    };
    let session = stripe(state)?
        .create_checkout_session(&customer, what, format!("{back}?paid=1"), back)
        .await
        .map_err(upstream)?;
    let (cs, now) = (session.id.to_string(), state.now());
    state
        .db
        .write(move |tx| repo::set_checkout(tx, id, &cs, now))
        .await?;
    session
        .url
        .ok_or_else(|| AppError::internal("Stripe Checkout answered without a URL"))
}

/// A payment and where it stands, read before a lifecycle change.
pub async fn of_session(
    state: &AppState,
    id: ConsultingSessionId,
) -> AppResult<Option<SessionPayment>> {
    state.db.read(move |c| repo::find(c, id)).await
}

/// What capturing a session's payment before accept found.
#[derive(Debug, Clone)]
pub enum Capture {
    /// A free session: nothing to capture.
    Free,
    Captured(SessionPayment),
    /// The hold lapsed at Stripe before the capture (the card networks
    /// dropped it): the reader must pay again (`record_lapse_in`).
    Lapsed(SessionPayment),
}

/// Before accept: captures the held payment.
pub async fn capture(state: &AppState, s: &SessionRow) -> AppResult<Capture> {
    let Some(p) = of_session(state, s.id).await? else {
        return Ok(Capture::Free);
    };
    let intent = match (p.status, &p.intent_id) {
        (PaymentStatus::Authorized, Some(i)) => i.clone(),
        _ => {
            return Err(AppError::conflict(
                "payment_not_authorized",
                "The reader's payment is not authorised yet.",
            ))
        }
    };
    let client = stripe(state)?;
    let done = match client.capture(&intent, &p.key("capture")).await {
        Ok(done) => done,
        // Stripe refuses to capture an intent it cancelled: a hold that
        // lapsed (`cancellation_reason: automatic`) is one of those.
        Err(ProviderError::Status { status: 400, .. }) => {
            let now = client
                .retrieve_payment_intent(&intent)
                .await
                .map_err(upstream)?;
            if now.status == PaymentIntentStatus::Canceled {
                tracing::info!(session = %s.id, "the card hold lapsed before the capture");
                return Ok(Capture::Lapsed(p));
            }
            now
        }
        Err(e) => return Err(upstream(e)),
    };
    if done.status != PaymentIntentStatus::Succeeded {
        return Err(AppError::Upstream {
            code: "payment_not_captured",
            message: format!("Stripe reports the payment as {}.", done.status),
        });
    }
    Ok(Capture::Captured(p))
}

/// Records a lapsed hold: its `release` in the ledger, the payment back to
/// pending under its next attempt, and the slot held for the payment
/// window while the reader pays again. False if the payment moved on.
pub fn record_lapse_in(
    conn: &Connection,
    state: &AppState,
    s: &SessionRow,
    p: &SessionPayment,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if !repo::mark_lapsed(conn, s.id, now)? {
        return Ok(false);
    }
    ledger::append(conn, &p.entry("release", 0, p.intent_id.as_deref()), now)?;
    consulting_sessions::set_expires_at(conn, s.id, payment_deadline(state, s, now))?;
    Ok(true)
}

/// Records a capture (payment, ledger, invoice) in the accept transaction.
pub fn record_capture_in(
    conn: &Connection,
    state: &AppState,
    s: &SessionRow,
    p: &SessionPayment,
    now: DateTime<Utc>,
) -> AppResult<()> {
    repo::transition(
        conn,
        s.id,
        &[PaymentStatus::Authorized],
        PaymentStatus::Captured,
        now,
    )?;
    let fee = p
        .amount()
        .percent(state.config.payments.platform_fee_percent);
    let Some(entry) = ledger::append(
        conn,
        &p.entry("capture", fee.minor, p.intent_id.as_deref()),
        now,
    )?
    else {
        return Ok(());
    };
    invoices::issue_in(
        conn,
        state,
        p.user_id,
        entry,
        &Charge {
            kind: "invoice",
            description: format!(
                "Consulting session with {} on {} ({} minutes)",
                s.researcher_name,
                s.start.format("%-d %B %Y"),
                s.duration_minutes
            ),
            gross: p.amount(),
            tax: p.tax(),
            rate: p.rate(),
            credits_invoice_id: None,
        },
        now,
    )?;
    Ok(())
}

/// How a payment was let go at Stripe.
#[derive(Debug, Clone)]
pub enum LetGo {
    /// The intent is cancelled (a hold released, or nothing was held).
    Released,
    /// Stripe had captured it already: refunded in full.
    Refunded { refund_id: String, amount: Money },
}

/// Before decline, expiry or a cancel before accept: lets the hold go.
pub async fn release(state: &AppState, s: &SessionRow) -> AppResult<LetGo> {
    let Some(p) = of_session(state, s.id).await? else {
        return Ok(LetGo::Released);
    };
    match (&p.intent_id, p.status) {
        (
            Some(intent),
            PaymentStatus::Pending | PaymentStatus::Authorized | PaymentStatus::Failed,
        ) => cancel_at_stripe(state, &p, intent).await,
        _ => Ok(LetGo::Released),
    }
}

/// Records how the session's payment was let go (`None`: nothing was
/// asked of Stripe): a release, or, when Stripe had captured the money,
/// the capture it implies and then the refund, so the ledger balances
/// (authorised = captured + released, refunded <= captured).
pub fn record_let_go_in(
    conn: &Connection,
    state: &AppState,
    s: &SessionRow,
    let_go: Option<&LetGo>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(LetGo::Refunded { refund_id, amount }) = let_go else {
        return record_release_in(conn, s, now);
    };
    let Some(p) = repo::find(conn, s.id)? else {
        return Ok(());
    };
    if p.unpaid() {
        // Held and captured before its webhook reached us.
        record_authorization_in(conn, &p, now)?;
    }
    if let Some(p) = repo::find(conn, s.id)?.filter(|p| p.status == PaymentStatus::Authorized) {
        record_capture_in(conn, state, s, &p, now)?;
    }
    if let Some(p) = repo::find(conn, s.id)? {
        super::held_refunds::record_refund_in(
            conn,
            state,
            s,
            &Refunded {
                payment: p,
                refund_id: refund_id.clone(),
                amount: *amount,
            },
            now,
        )?;
    }
    Ok(())
}

/// The card is held: the payment becomes `authorized` and the ledger gets
/// its `authorization`; false if it was not unpaid.
pub fn record_authorization_in(
    conn: &Connection,
    p: &SessionPayment,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let unpaid = [PaymentStatus::Pending, PaymentStatus::Failed];
    if !repo::transition(conn, p.session_id, &unpaid, PaymentStatus::Authorized, now)? {
        return Ok(false);
    }
    ledger::append(
        conn,
        &p.entry("authorization", 0, p.intent_id.as_deref()),
        now,
    )?;
    Ok(true)
}

/// Cancels the intent of an unpaid request that expired (the sessions
/// job). Had Stripe captured it, the money goes back in full, recorded
/// like any release that found a capture.
pub async fn cancel_abandoned(
    state: &AppState,
    id: ConsultingSessionId,
    intent: &str,
) -> AppResult<()> {
    let Some(p) = of_session(state, id).await? else {
        return Ok(());
    };
    let let_go = cancel_at_stripe(state, &p, intent).await?;
    if let LetGo::Refunded { .. } = let_go {
        let (st, now) = (state.clone(), state.now());
        state
            .db
            .write(
                move |tx| match consulting_sessions::find(tx, &st.keys, id)? {
                    Some(s) => record_let_go_in(tx, &st, &s, Some(&let_go), now),
                    None => Ok(()),
                },
            )
            .await?;
    }
    Ok(())
}

/// Records a release in the same transaction as the session's change.
pub fn record_release_in(conn: &Connection, s: &SessionRow, now: DateTime<Utc>) -> AppResult<()> {
    let Some(p) = repo::find(conn, s.id)? else {
        return Ok(());
    };
    let open = [
        PaymentStatus::Pending,
        PaymentStatus::Authorized,
        PaymentStatus::Failed,
    ];
    if repo::transition(conn, s.id, &open, PaymentStatus::Canceled, now)?
        && p.status == PaymentStatus::Authorized
    {
        ledger::append(conn, &p.entry("release", 0, p.intent_id.as_deref()), now)?;
    }
    Ok(())
}

pub use super::held_refunds::{
    record_refund_in, refund, refund_amount, refund_uncommitted, Refunded,
};
