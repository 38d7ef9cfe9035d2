//! The API's rendering of `AppError`: the one JSON error shape
//! `{"error":{"code","message","fields"}}` with its status code (and
//! `Retry-After` when the client should wait). Pages share the status and
//! the header through `HttpError`.

use std::collections::BTreeMap;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;

/// The JSON error body, as documented in the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, for example `validation_failed`.
    pub code: String,
    /// A sentence for humans.
    pub message: String,
    /// Per-field messages for validation errors.
    pub fields: BTreeMap<String, String>,
    /// With `terms_not_accepted`: each document to accept (`terms`,
    /// `privacy_notice`) and its current version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_versions: Option<BTreeMap<String, String>>,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                fields: BTreeMap::new(),
                current_versions: None,
            },
        }
    }
}

/// What every HTTP answer to an error needs, for the API and the pages.
pub trait HttpError {
    fn status(&self) -> StatusCode;
    /// Adds `Retry-After` for a rate or quota limit.
    fn add_retry_after(&self, response: &mut Response);
}

impl HttpError for AppError {
    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn add_retry_after(&self, response: &mut Response) {
        set_retry_after(response, self.retry_after());
    }
}

/// `Retry-After: secs`, when there is a wait to tell.
pub fn set_retry_after(response: &mut Response, secs: Option<u64>) {
    if let Some(v) = secs.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().into(),
                message: self.public_message(),
                fields: self.fields(),
                current_versions: match &self {
                    AppError::TermsNotAccepted { pending } => Some(
                        pending
                            .iter()
                            .map(|(doc, v)| (doc.to_string(), v.clone()))
                            .collect(),
                    ),
                    _ => None,
                },
            },
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        self.add_retry_after(&mut response);
        response
    }
}
