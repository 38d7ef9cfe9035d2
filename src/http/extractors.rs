//! Extractors that reject with the app's error shape: `AppJson`, `AppPath`,
//! `AppQuery`, `AuthUser`, `AdminUser`, `ClientIp`.

use std::net::IpAddr;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::services::accounts::{self, Principal};
use crate::state::AppState;

/// JSON body; not JSON is 415, malformed JSON 400, anything but an object
/// or wrong or unknown fields 422, too big 413.
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        if !json_content_type(req.headers()) {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| match e.status().as_u16() {
                413 => AppError::PayloadTooLarge,
                _ => AppError::bad_request("bad_body", e.body_text()),
            })?;
        // serde fills a struct from a JSON array too; every body here is
        // an object, and `["x"]` must not pass for `{"password": "x"}`.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
            return Err(AppError::Validation {
                message: "The request body must be a JSON object.".into(),
                fields: Default::default(),
            });
        }
        decode(&bytes).map(Self)
    }
}

/// Reads a JSON body into `T`. Bytes that are not JSON are 400
/// `malformed_json`; JSON of the wrong shape is 422 with the field named
/// in `fields`. A number like `3.0` is read as the integer it is (JSON
/// Schema's `integer` includes it; serde alone refuses it for an `i64`).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let malformed =
        || AppError::bad_request("malformed_json", "The request body is not valid JSON.");
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let e = match serde_path_to_error::deserialize(&mut de) {
        // Trailing bytes after the value make it not JSON.
        Ok(v) => return de.end().map(|()| v).map_err(|_| malformed()),
        Err(e) => e,
    };
    // Valid JSON of the wrong shape is a field error whatever serde calls
    // it (it reports an array where an enum is expected as "syntax").
    if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
        return Err(malformed());
    }
    if e.inner()
        .to_string()
        .contains("invalid type: floating point")
    {
        if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if whole_numbers_as_integers(&mut value) {
                if let Ok(v) = serde_path_to_error::deserialize(value) {
                    return Ok(v);
                }
            }
        }
    }
    Err(wrong_shape(&e))
}

fn wrong_shape(e: &serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = e.path().to_string();
    // serde's message without its "at line 1 column 9" tail.
    let inner = e.inner().to_string();
    let what = inner
        .split(" at line ")
        .next()
        .unwrap_or(&inner)
        .to_string();
    let (message, fields) = if path == "." || path.is_empty() {
        (
            format!("The request body does not match the expected fields: {what}"),
            Default::default(),
        )
    } else {
        (
            format!("The request body does not match the expected fields: {path}: {what}"),
            [(path, what)].into(),
        )
    };
    AppError::Validation { message, fields }
}

/// Turns every float with no fraction (within `i64`) into an integer;
/// true when one changed.
fn whole_numbers_as_integers(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => {
                *v = Value::from(f as i64);
                true
            }
            _ => false,
        },
        // Every element is visited (no short cut): each may need changing.
        Value::Array(items) => {
            items
                .iter_mut()
                .map(whole_numbers_as_integers)
                .filter(|c| *c)
                .count()
                > 0
        }
        Value::Object(map) => {
            map.values_mut()
                .map(whole_numbers_as_integers)
                .filter(|c| *c)
                .count()
                > 0
        }
        _ => false,
    }
}

/// `application/json` or `application/<something>+json`, as axum's `Json`.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A JSON body that may be left out entirely (then `T::default()`).
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let empty = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0")
            || (req
                .headers()
                .get(axum::http::header::CONTENT_TYPE)
                .is_none()
                && req
                    .headers()
                    .get(axum::http::header::TRANSFER_ENCODING)
                    .is_none()
                && req
                    .headers()
                    .get(axum::http::header::CONTENT_LENGTH)
                    .is_none());
        if empty {
            return Ok(Self(T::default()));
        }
        AppJson::<T>::from_request(req, state)
            .await
            .map(|AppJson(v)| Self(v))
    }
}

/// Path parameters; a malformed id is simply "not found".
pub struct AppPath<T>(pub T);

impl<S, T> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|_: PathRejection| AppError::NotFound)
    }
}

/// Query string; bad values are 422.
pub struct AppQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e: QueryRejection| {
                let detail = e.body_text();
                let detail = detail.trim_start_matches("Failed to deserialize query string: ");
                AppError::Validation {
                    message: format!("The query string is invalid: {detail}"),
                    fields: Default::default(),
                }
            })
    }
}

/// The client's IP address (behind trusted proxies, the forwarded one).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(Self(super::client_ip::client_ip(
            parts,
            &state.trusted_proxies,
        )))
    }
}

/// A signed-in API caller (bearer access token), rate limited per user.
/// Its account must have accepted the current terms and privacy notice,
/// except on the routes `terms_gate::EXEMPT` lists (403
/// `terms_not_accepted` otherwise).
pub struct AuthUser(pub Principal);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AppError::unauthorized("Send `Authorization: Bearer <access_token>`.")
            })?;
        let resolved = accounts::resolve_bearer(state, token).await?;
        state.rate_limits.check_user(resolved.principal.user_id)?;
        if !super::terms_gate::exempt(parts) {
            resolved.require_terms()?;
        }
        Ok(Self(resolved.principal))
    }
}

/// A signed-in admin; anyone else gets 403.
pub struct AdminUser(pub Principal);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let AuthUser(p) = AuthUser::from_request_parts(parts, state).await?;
        if !p.is_admin() {
            return Err(AppError::Forbidden);
        }
        Ok(Self(p))
    }
}

/// An optional bearer token: absent means anonymous, present must be valid.
pub struct MaybeAuthUser(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Ok(Self(None));
        }
        AuthUser::from_request_parts(parts, state)
            .await
            .map(|AuthUser(p)| Self(Some(p)))
    }
}
