//! The ciphertext formats, XChaCha20-Poly1305 with the column name as
//! associated data, so a value copied into another column does not decrypt:
//! - `v1:<key id>:<base64url(nonce || ciphertext)>`, under a keyring key
//!   (values kept for the institution, such as invoices);
//! - `v2:<subject>:<base64url(nonce || ciphertext)>`, under the data
//!   subject's own key (see `subject_keys`), destroyed at erasure.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("key `{0}` is not in the keyring")]
    UnknownKey(String),
    #[error("ciphertext does not decrypt (wrong key, column or tampered)")]
    Decrypt,
    /// The data subject was erased: their key is gone, by design.
    #[error("the data subject's key was destroyed at erasure")]
    Shredded,
    #[error("the subject key store cannot be read: {0}")]
    Store(String),
}

pub(crate) const INSTANCE: &str = "v1";
pub(crate) const SUBJECT: &str = "v2";
const NONCE_LEN: usize = 24;

/// Seals `plaintext` under `key`; `version` and `id` name the key in the
/// stored value (`v1` and a key id, or `v2` and a subject).
pub(crate) fn seal(key: &[u8; 32], version: &str, id: &str, aad: &str, plaintext: &[u8]) -> String {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    // Encryption with a valid key and in-memory buffers cannot fail.
    let ct = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .unwrap_or_default();
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&ct);
    format!("{version}:{id}:{}", URL_SAFE_NO_PAD.encode(blob))
}

/// Splits a stored value into its version, key name and binary body.
pub(crate) fn split(stored: &str) -> Result<(&str, &str, Vec<u8>), CryptoError> {
    let mut parts = stored.splitn(3, ':');
    let (Some(version @ (INSTANCE | SUBJECT)), Some(id), Some(body)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(CryptoError::Malformed);
    };
    let blob = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| CryptoError::Malformed)?;
    if blob.len() < NONCE_LEN + 16 {
        return Err(CryptoError::Malformed);
    }
    Ok((version, id, blob))
}

pub(crate) fn open(key: &[u8; 32], aad: &str, blob: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let (nonce, ct) = blob.split_at(NONCE_LEN);
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Decrypt)
}

/// The keyring key id a stored ciphertext was made with (`None` for values
/// under a subject key, which a keyring rotation does not touch).
pub fn key_id_of(stored: &str) -> Option<&str> {
    let mut parts = stored.splitn(3, ':');
    match (parts.next(), parts.next()) {
        (Some(INSTANCE), Some(kid)) => Some(kid),
        _ => None,
    }
}

/// The data subject a stored ciphertext belongs to, if it is under one.
pub fn subject_of(stored: &str) -> Option<&str> {
    let mut parts = stored.splitn(3, ':');
    match (parts.next(), parts.next()) {
        (Some(SUBJECT), Some(subject)) => Some(subject),
        _ => None,
    }
}
