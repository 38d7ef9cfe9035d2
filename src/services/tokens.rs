//! Access tokens: HS256 JWTs signed with the keyring's primary key (the key
//! id is the `kid` header, so tokens survive a rotation until the old key
//! is dropped). Expiry is checked against the app's `Clock`.

use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};

use crate::crypto::Keyring;
use crate::domain::{Role, SessionId, UserId};
use crate::error::{AppError, AppResult};

const PURPOSE_ACCESS: &str = "access";

/// Signs claims as an HS256 JWT with the keyring's primary key (its id in `kid`).
pub fn sign<T: Serialize>(keys: &Keyring, claims: &T) -> AppResult<String> {
    let (kid, secret) = keys.jwt_signing_key();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid);
    encode(&header, claims, &EncodingKey::from_secret(&secret))
        .map_err(|e| AppError::internal(format!("signing a token: {e}")))
}

/// Checks an HS256 JWT's signature with the key its `kid` names and returns
/// its claims; `None` for anything malformed, forged or signed by an unknown
/// key. Expiry and purpose are the caller's (against the app's clock).
pub fn decode_signed<T: serde::de::DeserializeOwned>(keys: &Keyring, token: &str) -> Option<T> {
    let header = decode_header(token).ok()?;
    if header.alg != Algorithm::HS256 {
        return None;
    }
    let secret = keys.jwt_verification_key(header.kid.as_deref()?)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    decode::<T>(token, &DecodingKey::from_secret(&secret), &validation)
        .ok()
        .map(|d| d.claims)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: i64,
    pub sid: i64,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub purpose: String,
}

pub fn issue_access(
    keys: &Keyring,
    user: UserId,
    session: SessionId,
    role: Role,
    now: chrono::DateTime<chrono::Utc>,
    ttl_secs: i64,
) -> AppResult<String> {
    let claims = AccessClaims {
        sub: user.0,
        sid: session.0,
        role,
        iat: now.timestamp(),
        exp: now.timestamp() + ttl_secs,
        purpose: PURPOSE_ACCESS.into(),
    };
    sign(keys, &claims)
}

/// Verifies signature, purpose and expiry; any failure is a plain 401.
pub fn verify_access(
    keys: &Keyring,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<AccessClaims> {
    let invalid = || AppError::unauthorized("The access token is invalid or expired.");
    let claims: AccessClaims = decode_signed(keys, token).ok_or_else(invalid)?;
    if claims.purpose != PURPOSE_ACCESS || claims.exp <= now.timestamp() {
        return Err(invalid());
    }
    Ok(claims)
}
