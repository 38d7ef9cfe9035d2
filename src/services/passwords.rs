//! Password hashing with argon2id (m=19456 KiB, t=2, p=1) on a bounded pool:
//! at most N hashes run at once on the blocking threads, so a burst of
//! log-ins waits its turn instead of starving every other request.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// How long a request waits for a hashing slot before it is told "busy".
const QUEUE_WAIT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified when the account does not
    /// exist so both answers take the same time.
    dummy: Arc<String>,
}

fn argon2() -> Argon2<'static> {
    // These parameters are constants that argon2 accepts.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("hashing failed: {e}")))
}

/// A well-formed argon2id hash, with this service's parameters, of no
/// password at all: a random salt and random output bytes. Verifying any
/// password against it runs the full argon2id computation and fails, so it
/// stands in for a missing account without hashing anything at start-up
/// (which held 19 MiB of memory for the life of the process).
fn dummy_hash() -> AppResult<String> {
    use rand::RngCore as _;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let output = argon2::password_hash::Output::new(&bytes)
        .map_err(|e| AppError::internal(format!("dummy hash: {e}")))?;
    let p = argon2().params().clone();
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${output}",
        p.m_cost(),
        p.t_cost(),
        p.p_cost(),
        salt.as_str()
    ))
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

impl PasswordHasher {
    /// `concurrency` 0 means one less than the number of CPUs (at least 1).
    pub fn new(concurrency: usize) -> AppResult<Self> {
        let n = if concurrency == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
        } else {
            concurrency
        };
        let dummy = dummy_hash()?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(n)),
            dummy: Arc::new(dummy),
        })
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let permit = tokio::time::timeout(QUEUE_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Busy)?
            .map_err(|_| AppError::Busy)?;
        let out = tokio::task::spawn_blocking(f).await?;
        drop(permit);
        Ok(out)
    }

    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let password = zeroize::Zeroizing::new(password.to_string());
        self.run(move || hash_blocking(&password)).await?
    }

    /// Checks `password` against `hash`, or against a dummy hash when there
    /// is no account, so timing does not tell whether the account exists.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> AppResult<bool> {
        let password = zeroize::Zeroizing::new(password.to_string());
        let found = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy.as_str().to_string(), str::to_string);
        let ok = self.run(move || verify_blocking(&password, &hash)).await?;
        Ok(ok && found)
    }
}

/// A synchronous hash for the command line.
pub fn hash_now(password: &str) -> AppResult<String> {
    hash_blocking(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_with_the_required_cost() {
        let h = PasswordHasher::new(1).unwrap();
        let hash = h.hash("a long enough passphrase").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(h
            .verify("a long enough passphrase", Some(&hash))
            .await
            .unwrap());
        assert!(!h
            .verify("another passphrase here", Some(&hash))
            .await
            .unwrap());
        assert!(!h.verify("a long enough passphrase", None).await.unwrap());
    }

    #[test]
    fn the_dummy_hash_costs_as_much_to_verify_as_a_real_one_and_matches_nothing() {
        let dummy = dummy_hash().unwrap();
        let real = hash_blocking("a long enough passphrase").unwrap();
        let (d, r) = (
            PasswordHash::new(&dummy).unwrap(),
            PasswordHash::new(&real).unwrap(),
        );
        assert_eq!(d.algorithm, r.algorithm);
        assert_eq!(d.version, r.version);
        assert_eq!(d.params, r.params);
        assert_eq!(d.hash.map(|h| h.len()), r.hash.map(|h| h.len()));
        assert_ne!(dummy, dummy_hash().unwrap(), "a fresh salt each time");
        // Same algorithm, version, parameters and output length: verifying
        // runs the same argon2id work, and it fails like a wrong password.
        assert!(!verify_blocking("a long enough passphrase", &dummy));
        assert!(!verify_blocking("", &dummy));
    }
}
