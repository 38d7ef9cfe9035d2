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

/// Only paths on this site are followed after log-in (no open redirects):
/// anything that is not plainly a local path, in its raw form or after
/// percent-decoding, becomes `/`.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or_else(|| "/".to_string())
}

/// The page a form was posted from (its `Referer`), if it is on this site;
/// else `/account`.
pub fn back_to(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .and_then(|u| local_path(&path_and_query(&u)))
        .unwrap_or_else(|| "/account".to_string())
}

fn suspicious(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || c == '\\')
}

/// `raw` as a path relative to our own origin, normalised; `None` when it
/// would leave the site or hides control characters or backslashes (which
/// browsers strip or read as `/`), also when percent-encoded, once or more.
fn local_path(raw: &str) -> Option<String> {
    let mut decoded = raw.to_string();
    for _ in 0..4 {
        if suspicious(&decoded) {
            return None;
        }
        let next = percent_encoding::percent_decode_str(&decoded)
            .decode_utf8()
            .ok()?
            .into_owned();
        if next == decoded {
            break;
        }
        decoded = next;
    }
    if suspicious(&decoded)
        || decoded.contains('%')
        || !decoded.starts_with('/')
        || decoded.starts_with("//")
    {
        return None;
    }
    let base = url::Url::parse("http://colloquy.invalid/").ok()?;
    let joined = base.join(raw).ok()?;
    if joined.origin() != base.origin() {
        return None;
    }
    Some(path_and_query(&joined))
}

fn path_and_query(u: &url::Url) -> String {
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_redirects_are_followed() {
        assert_eq!(safe_next(Some("/papers/1")), "/papers/1");
        assert_eq!(
            safe_next(Some("/researchers/4?tz=Europe/Berlin")),
            "/researchers/4?tz=Europe/Berlin"
        );
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn encoded_and_control_character_tricks_stay_on_the_site() {
        for bad in [
            "/\t/evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D%0A/evil.example",
            "/\\evil.example",
            "/%5Cevil.example",
            "/%5c%5cevil.example",
            "\\\\evil.example",
            "/%2F/evil.example",
            "%2F%2Fevil.example",
            "/%252F%252Fevil.example",
            "/%25252F%25252Fevil.example",
            "/\u{0}/evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            " //evil.example",
        ] {
            let to = safe_next(Some(bad));
            assert_eq!(to, "/", "{bad:?} went to {to}");
        }
    }
}
