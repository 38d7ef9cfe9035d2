//! Responses that are files to save, shared by the API and the pages.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::domain::ConsultingSessionId;

/// A session's calendar file as a download.
pub fn calendar_response(id: ConsultingSessionId, body: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"session-{id}.ics\""),
            ),
        ],
        body,
    )
        .into_response()
}
