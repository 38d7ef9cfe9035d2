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
    let (kid, secret) = keys.jwt_signing_key();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid);
    let claims = AccessClaims {
        sub: user.0,
        sid: session.0,
        role,
        iat: now.timestamp(),
        exp: now.timestamp() + ttl_secs,
        purpose: PURPOSE_ACCESS.into(),
    };
    encode(&header, &claims, &EncodingKey::from_secret(&secret))
        .map_err(|e| AppError::internal(format!("signing token: {e}")))
}

/// Verifies signature, purpose and expiry; any failure is a plain 401.
pub fn verify_access(
    keys: &Keyring,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<AccessClaims> {
    let invalid = || AppError::unauthorized("The access token is invalid or expired.");
    let header = decode_header(token).map_err(|_| invalid())?;
    if header.alg != Algorithm::HS256 {
        return Err(invalid());
    }
    let secret = header
        .kid
        .as_deref()
        .and_then(|kid| keys.jwt_verification_key(kid))
        .ok_or_else(invalid)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = decode::<AccessClaims>(token, &DecodingKey::from_secret(&secret), &validation)
        .map_err(|_| invalid())?;
    if data.claims.purpose != PURPOSE_ACCESS || data.claims.exp <= now.timestamp() {
        return Err(invalid());
    }
    Ok(data.claims)
}
