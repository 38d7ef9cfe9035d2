//! Paying for a session is a sessions concern: the reader's session is
//! loaded and checked here, then payments makes the Stripe objects.

use crate::db::repos::consulting_sessions::SessionRow;
use crate::domain::{ConsultingSessionId, SessionStatus};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::services::payments::{self, held, PaymentSummary};
use crate::state::AppState;

use super::{load_for, Party};

/// The session, when the caller is its reader (else 403; strangers 404).
async fn readers_session(
    state: &AppState,
    who: &Principal,
    id: ConsultingSessionId,
) -> AppResult<SessionRow> {
    let (row, party) = load_for(state, who, id).await?;
    if party != Party::Reader {
        return Err(AppError::Forbidden);
    }
    Ok(row)
}

/// `POST /consulting/payments/intent`: a manual-capture PaymentIntent.
pub async fn create_intent(
    state: &AppState,
    who: &Principal,
    id: ConsultingSessionId,
) -> AppResult<held::IntentView> {
    let row = readers_session(state, who, id).await?;
    held::create_intent(state, who.user_id, &row).await
}

/// A Stripe Checkout page for the reader's held payment; returns its URL.
pub async fn checkout(
    state: &AppState,
    who: &Principal,
    id: ConsultingSessionId,
) -> AppResult<String> {
    let row = readers_session(state, who, id).await?;
    held::checkout(state, who.user_id, &row).await
}

/// The session's payment as its reader or an admin sees it (researchers
/// see none; `None` for free sessions).
pub async fn payment_summary(
    state: &AppState,
    party: Party,
    id: ConsultingSessionId,
    session_status: SessionStatus,
) -> AppResult<Option<PaymentSummary>> {
    if party == Party::Researcher {
        return Ok(None);
    }
    payments::summary(state, party == Party::Reader, id, session_status).await
}
