//! An answer whose JSON was serialized before: cached views are sent as
//! the bytes they were serialized to when built
//! (`services::researcher_views::Prepared`).

use axum::http::header::{HeaderValue, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// `200 OK` with `Content-Type: application/json` and these bytes, which
/// must be JSON (they come from `serde_json`).
pub struct JsonBytes(pub Bytes);

impl IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.0,
        )
            .into_response()
    }
}
