//! The money that moved, written last and in time order (as Stripe's
//! events would have added it): session payments' holds, captures,
//! releases and refunds, and subscription charges.

use super::story::Entry;
use super::{ScaleReport, Time};
use crate::db::repos::ledger::{self, NewEntry};
use crate::domain::money::{Currency, Money};
use crate::domain::{ConsultingSessionId, SubscriptionId, UserId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

const BATCH: usize = 20_000;

pub struct Movement {
    pub kind: &'static str,
    pub user: UserId,
    pub session: Option<ConsultingSessionId>,
    pub subscription: Option<SubscriptionId>,
    pub amount: i64,
    pub tax: i64,
    pub fee: i64,
    pub currency: &'static str,
    /// The Stripe object behind it (`pi_…`, `re_…`, `in_…`).
    pub stripe_ref: String,
    pub at: Time,
}

impl Movement {
    pub fn of_session(
        e: &Entry,
        user: UserId,
        session: ConsultingSessionId,
        currency: &'static str,
        stripe_ref: String,
    ) -> Self {
        Self {
            kind: e.kind,
            user,
            session: Some(session),
            subscription: None,
            amount: e.amount,
            tax: e.tax,
            fee: e.fee,
            currency,
            stripe_ref,
            at: e.at,
        }
    }
}

pub async fn write(
    state: &AppState,
    mut movements: Vec<Movement>,
    progress: &impl Fn(&super::Step),
) -> AppResult<ScaleReport> {
    movements.sort_by_key(|m| m.at);
    let total = movements.len();
    let mut written = 0;
    let mut rest = movements.into_iter();
    loop {
        let batch: Vec<Movement> = rest.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            break;
        }
        written += state
            .db
            .write(move |tx| {
                let mut n = 0;
                for m in &batch {
                    let currency = Currency::parse(m.currency).map_err(AppError::internal)?;
                    let entry = NewEntry {
                        kind: m.kind,
                        user_id: Some(m.user),
                        session_id: m.session,
                        subscription_id: m.subscription,
                        amount: Money::new(m.amount, currency),
                        tax_minor: m.tax,
                        fee_minor: m.fee,
                        stripe_ref: Some(&m.stripe_ref),
                    };
                    n += usize::from(ledger::append(tx, &entry, m.at)?.is_some());
                }
                Ok(n)
            })
            .await?;
        progress(&super::Step::of("ledger", written, total));
    }
    Ok(ScaleReport {
        ledger_rows: written,
        ..ScaleReport::default()
    })
}
