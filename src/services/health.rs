//! Readiness: whether the service can do its work now.

use crate::domain::MailStatus;
use crate::error::AppResult;
use crate::state::AppState;

/// The database answers a query.
pub async fn ready(state: &AppState) -> AppResult<()> {
    state.db.ping().await
}

/// The Prometheus exposition, with the mail outbox counted now (each
/// status, zero included; left as it was if the database does not answer).
pub async fn metrics_text(state: &AppState) -> String {
    match state.db.read(crate::db::repos::mail_outbox::counts).await {
        Ok(found) => {
            let counts: Vec<(String, i64)> = MailStatus::ALL
                .iter()
                .map(|s| {
                    let n = found.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
                    (s.to_string(), n)
                })
                .collect();
            state.metrics.set_mail_outbox(&counts);
        }
        Err(e) => tracing::warn!(error = %e, "mail outbox not counted for /metrics"),
    }
    state.metrics.render()
}
