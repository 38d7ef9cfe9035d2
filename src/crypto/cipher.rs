//! The ciphertext format: `v1:<key id>:<base64url(nonce || ciphertext)>`,
//! XChaCha20-Poly1305 with the column name as associated data, so a value
//! copied into another column does not decrypt.

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
}

const PREFIX: &str = "v1";
const NONCE_LEN: usize = 24;

pub(crate) fn seal(key: &[u8; 32], key_id: &str, aad: &str, plaintext: &[u8]) -> String {
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
    format!("{PREFIX}:{key_id}:{}", URL_SAFE_NO_PAD.encode(blob))
}

/// Splits a stored value into its key id and binary body.
pub(crate) fn split(stored: &str) -> Result<(&str, Vec<u8>), CryptoError> {
    let mut parts = stored.splitn(3, ':');
    let (Some(PREFIX), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CryptoError::Malformed);
    };
    let blob = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| CryptoError::Malformed)?;
    if blob.len() < NONCE_LEN + 16 {
        return Err(CryptoError::Malformed);
    }
    Ok((kid, blob))
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

/// The key id a stored ciphertext was made with.
pub fn key_id_of(stored: &str) -> Option<&str> {
    let mut parts = stored.splitn(3, ':');
    match (parts.next(), parts.next()) {
        (Some(PREFIX), Some(kid)) => Some(kid),
        _ => None,
    }
}
