//! Invoices for captures and subscription charges, credit notes for
//! refunds. Issued in the same transaction as the ledger entry they belong
//! to; shown as an HTML page that can be downloaded.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::db::repos::billing;
use crate::db::repos::ledger::{self, Invoice, Line, NewInvoice, Party, TaxLine};
use crate::db::repos::users;
use crate::domain::money::{Money, Rate};
use crate::domain::{InvoiceId, LedgerEntryId, UserId};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// The seller, from `[invoices]` (the institution's name by default, and
/// "Colloquy" when that is not set either).
pub fn seller(state: &AppState) -> Party {
    let c = &state.config;
    Party {
        name: if c.invoices.seller_name.trim().is_empty() {
            c.institution.brand().site().to_string()
        } else {
            c.invoices.seller_name.clone()
        },
        address: c.invoices.seller_address.clone(),
        tax_id: c.invoices.seller_tax_id.clone(),
        country: String::new(),
        email: c.institution.contact_email.clone(),
    }
}

/// The buyer, from the account and its billing profile.
pub fn buyer(conn: &Connection, state: &AppState, user: UserId) -> AppResult<Party> {
    let u = users::find(conn, &state.keys, user)?
        .ok_or_else(|| AppError::internal(format!("invoice buyer {user} is gone")))?;
    let profile = billing::find(conn, &state.keys, user)?;
    let (country, details) = profile.map(|p| (p.country, p.details)).unwrap_or_default();
    Ok(Party {
        name: if details.name.is_empty() {
            u.name
        } else {
            details.name
        },
        address: details.address,
        tax_id: details.tax_id,
        country,
        email: u.email,
    })
}

/// What one invoice says: a description, the gross amount and its tax
/// (negative on a credit note), in one currency.
pub struct Charge<'a> {
    pub kind: &'a str,
    pub description: String,
    pub gross: Money,
    pub tax: Money,
    pub rate: Option<Rate>,
    pub credits_invoice_id: Option<InvoiceId>,
}

/// Issues the invoice (or credit note) of ledger entry `ledger_id`.
pub fn issue_in(
    conn: &Connection,
    state: &AppState,
    user: UserId,
    ledger_id: LedgerEntryId,
    c: &Charge<'_>,
    now: DateTime<Utc>,
) -> AppResult<Invoice> {
    let net = c.gross.checked_sub(c.tax).map_err(AppError::internal)?;
    let line = Line {
        description: c.description.clone(),
        net_minor: net.minor,
        tax_minor: c.tax.minor,
        total_minor: c.gross.minor,
    };
    let tax_lines: Vec<TaxLine> = c
        .rate
        .iter()
        .map(|r| TaxLine {
            name: r.name.clone(),
            basis_points: r.basis_points,
            tax_minor: c.tax.minor,
        })
        .collect();
    ledger::issue(
        conn,
        &state.keys,
        &state.config.invoices.number_prefix,
        &NewInvoice {
            kind: c.kind,
            user_id: Some(user),
            ledger_id,
            credits_invoice_id: c.credits_invoice_id,
            seller: &seller(state),
            buyer: &buyer(conn, state, user)?,
            lines: &[line],
            tax_lines: &tax_lines,
            currency: c.gross.currency,
        },
        now,
    )
}

/// An invoice, for its buyer or an admin.
pub async fn get(
    state: &AppState,
    who: &Principal,
    id: InvoiceId,
) -> AppResult<super::InvoiceView> {
    let keys = state.keys.clone();
    let inv = state
        .db
        .read(move |c| ledger::find(c, &keys, id))
        .await?
        .ok_or(AppError::NotFound)?;
    if who.is_admin() || inv.user_id == Some(who.user_id) {
        Ok(inv.into())
    } else {
        Err(AppError::NotFound)
    }
}
