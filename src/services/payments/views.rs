//! Ledger entries and invoices as the API and pages show them.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::repos::ledger::{Invoice, LedgerEntry};
use crate::domain::billing::{InvoiceParty, Line, TaxLine};
use crate::domain::money::{Currency, Money};
use crate::domain::{ConsultingSessionId, InvoiceId, LedgerEntryId, SubscriptionId, UserId};

/// One movement of money.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = LedgerEntry)]
pub struct LedgerView {
    pub id: LedgerEntryId,
    /// `authorization`, `release`, `capture`, `refund`, `subscription_charge`,
    /// `dispute` or `payment_failed` (a declined card: no money moved).
    pub kind: String,
    pub user_id: Option<UserId>,
    pub session_id: Option<ConsultingSessionId>,
    pub subscription_id: Option<SubscriptionId>,
    pub amount_minor: i64,
    pub tax_minor: i64,
    pub fee_minor: i64,
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    pub stripe_ref: Option<String>,
    /// The invoice or credit note issued for it, if any.
    pub invoice_number: Option<String>,
    pub invoice_id: Option<InvoiceId>,
    pub created_at: String,
}

impl LedgerView {
    pub fn amount(&self) -> Money {
        Money::new(self.amount_minor, self.currency)
    }
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
    pub id: InvoiceId,
    pub number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    pub user_id: Option<UserId>,
    pub ledger_id: LedgerEntryId,
    pub credits_invoice_id: Option<InvoiceId>,
    pub seller: InvoiceParty,
    pub buyer: InvoiceParty,
    pub lines: Vec<Line>,
    pub tax_lines: Vec<TaxLine>,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    pub issued_at: String,
}

impl InvoiceView {
    /// An amount of this invoice's currency, as people read it.
    pub fn money(&self, minor: i64) -> Money {
        Money::new(minor, self.currency)
    }
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

/// What a client needs to confirm the payment with Stripe.js.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntentView {
    pub payment_intent_id: String,
    pub client_secret: String,
    /// Gross, in minor units.
    pub amount: i64,
    pub tax: i64,
    pub currency: String,
    /// The payment attempt this intent belongs to: 1, then 2, 3, … after
    /// declined cards (each attempt's intent replaces the last).
    pub attempt: i64,
    /// Pay before this time; after it the request lapses
    /// (`payment_not_completed`) and its slot is free again.
    pub pay_by: chrono::DateTime<chrono::Utc>,
}
