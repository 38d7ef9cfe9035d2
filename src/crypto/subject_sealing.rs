//! Sealing a person's values under their own data key, and the key
//! store's upkeep that goes through the keyring (wrapping, rotation,
//! destruction). The store itself is `subject_keys`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::cipher::{self, CryptoError};
use super::keyring::{random32, Keyring};
use super::subject_keys::{DataKey, Stored, Subject};

impl Keyring {
    /// Encrypts a data subject's personal value under their own key (made
    /// on first use), so erasing them makes every copy unreadable. A
    /// subject already erased gets a value nobody can read; if the key
    /// store cannot be reached the value goes under the keyring key (never
    /// lost), and `keys migrate-subjects` moves it later.
    pub fn encrypt_for(&self, subject: impl Into<Subject>, aad: &str, plaintext: &str) -> String {
        self.reseal_for(&subject.into().to_string(), aad, plaintext)
    }

    /// `encrypt_for` with the subject as stored (`u12`), for the walks over
    /// encrypted columns that read it from SQL.
    pub fn reseal_for(&self, subject: &str, aad: &str, plaintext: &str) -> String {
        match self.subject_key(subject, true) {
            Ok(Some(key)) => {
                cipher::seal(&key, cipher::SUBJECT, subject, aad, plaintext.as_bytes())
            }
            Ok(None) => {
                let throwaway = zeroize::Zeroizing::new(random32());
                cipher::seal(
                    &throwaway,
                    cipher::SUBJECT,
                    subject,
                    aad,
                    plaintext.as_bytes(),
                )
            }
            Err(e) => {
                tracing::error!(error = %e, subject = %subject, "no subject key; sealing under the keyring key");
                self.encrypt(aad, plaintext)
            }
        }
    }

    /// Makes keys for every subject in `subjects` that has none, in one
    /// write of the key store (the migration's batches).
    pub fn ensure_subject_keys(&self, subjects: &[String]) -> Result<(), CryptoError> {
        let mut new = Vec::new();
        for s in subjects {
            if self.subjects.cached(s).is_none()
                && matches!(self.subjects.lookup(s)?, Stored::Missing)
            {
                new.push((s.clone(), self.wrap_key(s, &random32())));
            }
        }
        if new.is_empty() {
            return Ok(());
        }
        self.subjects
            .insert_missing(&new, &chrono::Utc::now().to_rfc3339())
    }

    /// Destroys a subject's key (crypto-shredding); later values for them
    /// are unreadable at birth. Returns whether a key existed.
    pub fn destroy_subject_key(&self, subject: impl Into<Subject>) -> Result<bool, CryptoError> {
        let name = subject.into().to_string();
        self.subjects
            .destroy(&name, &chrono::Utc::now().to_rfc3339())
    }

    /// How many subject keys are live and how many were destroyed.
    pub fn subject_key_counts(&self) -> Result<(usize, usize), CryptoError> {
        self.subjects.counts()
    }

    fn wrap_aad(subject: &str) -> String {
        format!("subject_keys:{subject}")
    }

    fn wrap_key(&self, subject: &str, key: &[u8; 32]) -> String {
        let b64 = zeroize::Zeroizing::new(STANDARD.encode(key));
        self.encrypt(&Self::wrap_aad(subject), &b64)
    }

    fn unwrap_key(&self, subject: &str, wrapped: &str) -> Result<DataKey, CryptoError> {
        let b64 = zeroize::Zeroizing::new(self.decrypt(&Self::wrap_aad(subject), wrapped)?);
        let raw = zeroize::Zeroizing::new(
            STANDARD
                .decode(b64.as_bytes())
                .map_err(|_| CryptoError::Malformed)?,
        );
        let key: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Malformed)?;
        Ok(std::sync::Arc::new(zeroize::Zeroizing::new(key)))
    }

    /// The subject's key: `None` once destroyed. `create` makes a missing
    /// one; otherwise a missing key is an error (the store was lost, or
    /// belongs to another instance).
    pub(super) fn subject_key(
        &self,
        subject: &str,
        create: bool,
    ) -> Result<Option<DataKey>, CryptoError> {
        if let Some(k) = self.subjects.cached(subject) {
            return Ok(Some(k));
        }
        match self.subjects.lookup(subject)? {
            Stored::Wrapped(w) => {
                let key = self.unwrap_key(subject, &w)?;
                self.subjects.remember(subject, key.clone());
                Ok(Some(key))
            }
            Stored::Destroyed => Ok(None),
            Stored::Missing if create => {
                self.ensure_subject_keys(&[subject.to_string()])?;
                self.subject_key(subject, false)
            }
            Stored::Missing => Err(CryptoError::UnknownKey(format!("subject {subject}"))),
        }
    }

    /// Rewraps every subject key not under the primary keyring key, in
    /// batches; `progress` is told `(done, total)`. Part of `keys rotate`.
    pub fn rewrap_subject_keys(
        &self,
        batch: usize,
        progress: &dyn Fn(usize, usize),
    ) -> Result<usize, CryptoError> {
        let prefix = format!("{}:{}:", cipher::INSTANCE, self.primary_id());
        let total = self.subjects.count_not_under(&prefix)?;
        let mut done = 0;
        progress(0, total);
        loop {
            let rows = self.subjects.wrapped_not_under(&prefix, batch)?;
            if rows.is_empty() {
                return Ok(done);
            }
            let mut out = Vec::with_capacity(rows.len());
            for (subject, w) in &rows {
                let key = self.unwrap_key(subject, w)?;
                out.push((subject.clone(), self.wrap_key(subject, &key)));
            }
            self.subjects.rewrap(&out)?;
            done += rows.len();
            progress(done.min(total), total);
        }
    }

    /// Subject keys still wrapped by a key other than the primary.
    pub fn subject_keys_not_under_primary(&self) -> Result<usize, CryptoError> {
        let prefix = format!("{}:{}:", cipher::INSTANCE, self.primary_id());
        self.subjects.count_not_under(&prefix)
    }
}
