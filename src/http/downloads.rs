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

/// An export as a streamed download: the body drains the producer's
/// channel, so the answer starts before the last row is read.
pub fn export_response(started: crate::services::exports::Started) -> Response {
    let crate::services::exports::Started {
        export: e,
        file_name,
        chunks,
    } = started;
    let stream = futures_util::stream::unfold(chunks, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (
        [
            (header::CONTENT_TYPE, e.format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}
