//! Money still in flight, for `colloquy config check`: the payments that
//! `[payments] mode = "off"` would strand (a held card nobody could capture
//! or release any more, a captured payment a cancellation or dispute could
//! still need to refund), and researchers whose answer deadline outlives a
//! card hold. Read from a read-only connection: the check changes nothing.

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;

use crate::config::Config;
use crate::db::repos::booking_settings;
use crate::db::repos::payments::{self as repo, InFlightPayment};
use crate::domain::PaymentStatus;
use crate::error::AppResult;

/// What keeps a payment in flight, and so what the operator can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The card is held: `colloquy payments release-held` lets it go.
    Held,
    /// A dispute of the session is open: resolve it first.
    DisputeOpen,
    /// Captured; a cancellation or a dispute may still refund it until
    /// this moment (the session's end plus `[disputes] window_days`).
    Refundable { until: DateTime<Utc> },
}

/// A payment `mode = "off"` would strand.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub payment: InFlightPayment,
    pub why: Why,
}

/// Held payments, and captured ones that may still have to move back,
/// oldest session first.
pub fn in_flight(
    conn: &Connection,
    config: &Config,
    now: DateTime<Utc>,
) -> AppResult<Vec<InFlight>> {
    if !crate::db::has_table(conn, "session_payments")? {
        return Ok(Vec::new());
    }
    let window = Duration::days(config.disputes.window_days);
    Ok(repo::in_flight(conn, now - window)?
        .into_iter()
        .map(|payment| {
            let why = if payment.status == PaymentStatus::Authorized {
                Why::Held
            } else if payment.dispute_open {
                Why::DisputeOpen
            } else {
                Why::Refundable {
                    until: payment.session_end + window,
                }
            };
            InFlight { payment, why }
        })
        .collect())
}

/// How many researchers set their own `request_ttl_hours` above
/// `[payments] authorization_validity_hours`.
pub fn researchers_outliving_hold(conn: &Connection, config: &Config) -> AppResult<i64> {
    booking_settings::count_request_ttl_over(conn, config.payments.authorization_validity_hours)
}
