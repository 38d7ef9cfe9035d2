//! What invoices and credit notes say: the parties, the lines, the tax
//! lines, and a buyer's billing details. Stored as JSON with an invoice
//! (the buyer encrypted) and shown as they are.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a buyer puts on invoices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BillingDetails {
    pub name: String,
    pub address: String,
    pub tax_id: String,
}

/// One invoice line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Line {
    pub description: String,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
}

/// One tax line: the rate and the tax it adds up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaxLine {
    pub name: String,
    pub basis_points: i64,
    pub tax_minor: i64,
}

/// A party on an invoice (the seller or the buyer). Named `InvoiceParty`
/// in the OpenAPI document too: as `Party` it replaced the session's
/// `Party` (a string), so every session answer broke its own schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InvoiceParty {
    pub name: String,
    pub address: String,
    pub tax_id: String,
    pub country: String,
    pub email: String,
}
