//! Payments with Stripe: held payments captured on accept, refunds by
//! policy, subscriptions, signed webhooks, the ledger, invoices and tax.

pub mod signature;
