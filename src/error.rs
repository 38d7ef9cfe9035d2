//! The one error type of the services. It knows its status code, its
//! stable code and what the client may be told; rendering it is the HTTP
//! layer's job (`http::api::error` for JSON, `http::pages::errors` for
//! pages), so this module does not depend on axum.

use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request cannot be understood (malformed JSON, bad cursor).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// Well-formed but invalid input; `fields` names each bad field.
    #[error("{message}")]
    Validation {
        message: String,
        fields: BTreeMap<String, String>,
    },
    #[error("authentication required")]
    Unauthorized { message: String },
    #[error("forbidden")]
    Forbidden,
    /// Forbidden for a reason the caller can act on (e.g. `email_not_verified`).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The account has not accepted the current version of the terms or
    /// the privacy notice: each pending document with its current version.
    #[error("terms not accepted")]
    TermsNotAccepted {
        pending: Vec<(&'static str, String)>,
    },
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// A quota (not a request rate) is spent, e.g. `quota_exceeded`.
    #[error("{message}")]
    OverQuota {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    /// An external service failed or could not be reached.
    #[error("{message}")]
    Upstream { code: &'static str, message: String },
    /// The server is too busy to take this request now.
    #[error("service busy")]
    Busy,
    /// The database could not grow (the disk, or its page limit, is full):
    /// the write was rolled back whole; reads still work.
    #[error("storage full")]
    StorageFull,
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized {
            message: message.into(),
        }
    }

    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = BTreeMap::new();
        fields.insert(field.to_string(), message.clone());
        Self::Validation {
            message: format!("{field}: {message}"),
            fields,
        }
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::Internal(anyhow::anyhow!("{message}"))
    }

    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::BadRequest { .. } => 400,
            Self::Validation { .. } => 422,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden | Self::Refused { .. } | Self::TermsNotAccepted { .. } => 403,
            Self::NotFound => 404,
            Self::Conflict { .. } => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited { .. } | Self::OverQuota { .. } => 429,
            Self::Upstream { .. } => 502,
            Self::Busy | Self::StorageFull => 503,
            Self::Internal(_) => 500,
        }
    }

    /// Seconds to wait before trying again, for the `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs }
            | Self::OverQuota {
                retry_after_secs, ..
            } => Some((*retry_after_secs).max(1)),
            Self::StorageFull => Some(60),
            _ => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Conflict { code, .. }
            | Self::Refused { code, .. }
            | Self::OverQuota { code, .. }
            | Self::Upstream { code, .. } => code,
            Self::Validation { .. } => "validation_failed",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::TermsNotAccepted { .. } => "terms_not_accepted",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::Busy => "busy",
            Self::StorageFull => "storage_full",
            Self::Internal(_) => "internal",
        }
    }

    /// What the client is told; internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            Self::Unauthorized { message } => message.clone(),
            Self::Forbidden => "You are not allowed to do this.".into(),
            Self::NotFound => "Not found.".into(),
            Self::TermsNotAccepted { pending } => {
                let what = pending
                    .iter()
                    .map(|(doc, v)| match *doc {
                        "terms" => format!("the terms of use (version {v})"),
                        _ => format!("the privacy notice (version {v})"),
                    })
                    .collect::<Vec<_>>()
                    .join(" and ");
                format!(
                    "Read and accept {what} first: POST /api/v1/users/me/terms with {{\"version\"}} (and \"document\": \"privacy_notice\" for the notice)."
                )
            }
            Self::PayloadTooLarge => "The request body is too large.".into(),
            Self::UnsupportedMediaType => {
                "Send the body as JSON with `Content-Type: application/json`.".into()
            }
            Self::RateLimited { .. } => "Too many requests; slow down and try again later.".into(),
            Self::Busy => "The server is busy; try again in a moment.".into(),
            Self::StorageFull => "The server's storage is full, so nothing was saved. Reading still works; try again later (the administrators have been alerted).".into(),
            Self::Internal(_) => "Something went wrong on our side. It has been logged.".into(),
            other => other.to_string(),
        }
    }

    pub fn fields(&self) -> BTreeMap<String, String> {
        match self {
            Self::Validation { fields, .. } => fields.clone(),
            _ => BTreeMap::new(),
        }
    }

    /// Logs server-side failures with their detail, once.
    pub fn log(&self) {
        match self {
            Self::Internal(e) => tracing::error!(error = ?e, "internal error"),
            Self::Upstream { message, .. } => tracing::warn!(%message, "upstream failure"),
            Self::StorageFull => {
                tracing::error!("the database cannot grow: the disk is full; writes are refused until there is space")
            }
            _ => {}
        }
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        if is_unique_violation(&e) {
            return Self::conflict("already_exists", "This already exists.");
        }
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            return Self::StorageFull;
        }
        Self::Internal(anyhow::Error::new(e))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}

pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// Collects per-field validation messages, then turns them into one error.
#[derive(Debug, Default)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    /// Records the error of a fallible parse and returns its value.
    pub fn check<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.add(field, m);
                None
            }
        }
    }

    pub fn into_result(self) -> AppResult<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let message = self
            .0
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ");
        Err(AppError::Validation {
            message,
            fields: self.0,
        })
    }
}
