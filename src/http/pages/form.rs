//! `PageForm<T>`: a URL-encoded form body whose rejection is an error page,
//! and the CSRF field every form carries.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequest, Request};
use serde::de::DeserializeOwned;

use super::PageError;
use crate::error::AppError;

pub struct PageForm<T>(pub T);

impl<S, T> FromRequest<S> for PageForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(v)) => Ok(Self(v)),
            Err(FormRejection::BytesRejection(e)) if e.status().as_u16() == 413 => {
                Err(AppError::PayloadTooLarge.into())
            }
            Err(_) => Err(AppError::bad_request(
                "bad_form",
                "The form was incomplete or malformed. Go back and try again.",
            )
            .into()),
        }
    }
}

/// A form that carries only the CSRF token (log-out, simple actions).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    pub csrf_token: String,
}

/// Only local paths are followed after log-in (no open redirects).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_redirects_are_followed() {
        assert_eq!(safe_next(Some("/papers/1")), "/papers/1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
