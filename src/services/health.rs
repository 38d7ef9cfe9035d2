//! Readiness: whether the service can do its work now.

use crate::error::AppResult;
use crate::state::AppState;

/// The database answers a query.
pub async fn ready(state: &AppState) -> AppResult<()> {
    state.db.ping().await
}
