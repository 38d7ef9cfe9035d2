//! Refunds an admin decides (for example after a reader's no-show, which
//! refunds nothing by policy). Audited; the money moves first, then the
//! ledger, the payment and the credit note change in one transaction.

use std::net::IpAddr;

use serde_json::json;

use super::held::{self, Refunded};
use crate::db::repos::{audit, consulting_sessions};
use crate::domain::money::Money;
use crate::domain::{ConsultingSessionId, PaymentStatus};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// Refunds `amount` (default: all that is left) of a session's captured
/// payment; admins only.
pub async fn admin_refund(
    state: &AppState,
    admin: &Principal,
    id: ConsultingSessionId,
    amount: Option<i64>,
    reason: &str,
    ip: Option<IpAddr>,
) -> AppResult<Money> {
    admin.require_admin()?;
    let reason =
        crate::domain::text::line(reason, 500).map_err(|m| AppError::field("reason", m))?;
    crate::services::accounts::reauth::require_recent(state, admin).await?;
    let keys = state.keys.clone();
    let row = state
        .db
        .read(move |c| consulting_sessions::find(c, &keys, id))
        .await?
        .ok_or(AppError::NotFound)?;
    let payment = held::of_session(state, id)
        .await?
        .filter(|p| {
            matches!(
                p.status,
                PaymentStatus::Captured | PaymentStatus::PartiallyRefunded
            )
        })
        .ok_or_else(|| {
            AppError::conflict("nothing_to_refund", "This session has no captured payment.")
        })?;
    // The amount is in minor units of the payment's own currency.
    let left = payment.left();
    let amount = amount.map_or(left, |minor| Money::new(minor, left.currency));
    if !(1..=left.minor).contains(&amount.minor) {
        return Err(AppError::field(
            "amount_minor",
            format!("must be between 1 and {} ({left})", left.minor),
        ));
    }
    let Some(refunded) = held::refund(state, &row, payment, amount).await? else {
        return Err(AppError::conflict(
            "nothing_to_refund",
            "This session has no captured payment.",
        ));
    };
    let (st, now, actor) = (state.clone(), state.now(), admin.user_id);
    let Refunded { amount: done, .. } = refunded;
    state
        .db
        .write(move |tx| {
            held::record_refund_in(tx, &st, &row, &refunded, now)?;
            audit::append(
                tx,
                &st.keys,
                audit::NewEvent {
                    actor: Some(actor),
                    action: "payment.refunded_by_admin",
                    target: Some(format!("session:{id}")),
                    // The reason may name people: it is not kept in clear here.
                    detail: json!({"amount_minor": done.minor, "reason_chars": reason.chars().count()}),
                    ip,
                },
                now,
            )?;
            Ok(())
        })
        .await?;
    Ok(done)
}
