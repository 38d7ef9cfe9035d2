//! The Stripe client as payments uses it: whether payments are on, the
//! client, and how a failed call reads to the user.

use crate::config::PaymentsMode;
use crate::error::{AppError, AppResult};
use crate::providers::stripe::StripeClient;
use crate::providers::ProviderError;
use crate::state::AppState;

/// Whether priced sessions are paid through Stripe.
pub fn enabled(state: &AppState) -> bool {
    state.config.payments.mode == PaymentsMode::Stripe && state.providers.stripe.is_some()
}

pub(super) fn stripe(state: &AppState) -> AppResult<&StripeClient> {
    state.providers.stripe.as_ref().ok_or(AppError::NotFound)
}

pub fn upstream(e: ProviderError) -> AppError {
    AppError::Upstream {
        code: "payment_provider_failed",
        message: format!(
            "The payment could not be processed: {e}. Nothing was changed; try again."
        ),
    }
}
