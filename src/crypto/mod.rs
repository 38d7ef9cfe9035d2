//! Field encryption for personal data: a keyring of 256-bit keys with ids,
//! AEAD ciphertexts that name their key, blind indexes for equality look-ups,
//! the per-key JWT signing secret, and per-subject data keys that erasure
//! destroys (crypto-shredding).

mod cipher;
mod keyring;
mod subject_keys;
mod subject_sealing;

pub use cipher::{key_id_of, subject_of, CryptoError};
pub use keyring::{generate_keyring_json, hmac, Keyring};
pub use subject_keys::Subject;

/// Random URL-safe token with `bytes` bytes of entropy (sessions, CSRF, links).
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of a bearer secret, hex; what the database stores instead of it.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison of two secrets.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
