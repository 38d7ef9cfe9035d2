//! One module per aggregate; the only place SQL is written.

pub mod audit;
pub mod auth_sessions;
pub mod billing;
pub mod booking_settings;
pub mod collection_jobs;
pub mod consulting_sessions;
pub mod ledger;
pub mod mail_outbox;
pub mod outreach;
pub mod papers;
pub mod payments;
pub mod progress;
pub mod provider_calls;
pub mod queries;
pub mod researchers;
pub mod setup_links;
pub mod users;

use crate::crypto::{CryptoError, Keyring};
use crate::error::AppError;

/// Decrypts a stored value; a failure is an internal error (lost key or
/// tampering), never shown to the client in detail.
pub(crate) fn decrypt(keys: &Keyring, aad: &str, stored: &str) -> Result<String, AppError> {
    keys.decrypt(aad, stored)
        .map_err(|e: CryptoError| AppError::internal(format!("decrypting {aad}: {e}")))
}
