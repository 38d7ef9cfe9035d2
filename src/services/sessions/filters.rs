//! The checks of a session list's query, shared by the participants'
//! list and the admins'.

use chrono::{DateTime, Utc};

use crate::domain::SessionStatus;
use crate::error::{AppError, AppResult};

/// A status filter as given in a query string; 422 naming the choices.
pub(super) fn parse_status(raw: Option<&str>) -> AppResult<Option<SessionStatus>> {
    raw.map(str::parse::<SessionStatus>)
        .transpose()
        .map_err(|_| {
            AppError::field(
                "status",
                format!("must be one of {}", SessionStatus::list()),
            )
        })
}

/// A time range's end must come after its start.
pub(super) fn check_range(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> AppResult<()> {
    match (from, to) {
        (Some(f), Some(t)) if t <= f => Err(AppError::field("to", "must be after from")),
        _ => Ok(()),
    }
}
