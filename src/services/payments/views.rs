//! Ledger entries and invoices as the API and pages show them.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::repos::ledger::{Invoice, LedgerEntry};
use crate::domain::billing::{InvoiceParty, Line, TaxLine};

/// One movement of money.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = LedgerEntry)]
pub struct LedgerView {
    pub id: i64,
    /// `authorization`, `release`, `capture`, `refund`, `subscription_charge` or `dispute`.
    pub kind: String,
    pub user_id: Option<i64>,
    pub session_id: Option<i64>,
    pub subscription_id: Option<i64>,
    pub amount_minor: i64,
    pub tax_minor: i64,
    pub fee_minor: i64,
    pub currency: String,
    pub stripe_ref: Option<String>,
    /// The invoice or credit note issued for it, if any.
    pub invoice_number: Option<String>,
    pub invoice_id: Option<i64>,
    pub created_at: String,
}

impl From<LedgerEntry> for LedgerView {
    fn from(e: LedgerEntry) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            user_id: e.user_id,
            session_id: e.session_id,
            subscription_id: e.subscription_id,
            amount_minor: e.amount_minor,
            tax_minor: e.tax_minor,
            fee_minor: e.fee_minor,
            currency: e.currency,
            stripe_ref: e.stripe_ref,
            invoice_number: e.invoice_number,
            invoice_id: e.invoice_id,
            created_at: e.created_at,
        }
    }
}

/// An invoice or a credit note.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Invoice)]
pub struct InvoiceView {
    pub id: i64,
    pub number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    pub user_id: Option<i64>,
    pub ledger_id: i64,
    pub credits_invoice_id: Option<i64>,
    pub seller: InvoiceParty,
    pub buyer: InvoiceParty,
    pub lines: Vec<Line>,
    pub tax_lines: Vec<TaxLine>,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub currency: String,
    pub issued_at: String,
}

impl From<Invoice> for InvoiceView {
    fn from(i: Invoice) -> Self {
        Self {
            id: i.id,
            number: i.number,
            kind: i.kind,
            user_id: i.user_id,
            ledger_id: i.ledger_id,
            credits_invoice_id: i.credits_invoice_id,
            seller: i.seller,
            buyer: i.buyer,
            lines: i.lines,
            tax_lines: i.tax_lines,
            net_minor: i.net_minor,
            tax_minor: i.tax_minor,
            total_minor: i.total_minor,
            currency: i.currency,
            issued_at: i.issued_at,
        }
    }
}
