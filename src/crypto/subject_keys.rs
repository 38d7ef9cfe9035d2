//! Per-subject data keys, for crypto-shredding. Each data subject (an
//! account, or a researcher profile) has a random 256-bit key of its own;
//! their personal fields are sealed with it (`v2:<subject>:…`). The keys
//! live wrapped by the keyring in a small SQLite file beside it,
//! `<data_dir>/keys/subject_keys.db`, never in `colloquy.db`: erasure
//! destroys the subject's key, so every copy of their ciphertexts, in old
//! database backups too, stops decrypting.
//!
//! The file runs with `secure_delete` (a destroyed key's bytes are zeroed
//! in the page) and is checkpointed after each destruction (no old page
//! image is left in the WAL).

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

use super::cipher::CryptoError;

/// Whose personal data a value is: its key's name in the store and in the
/// stored ciphertext (`u12`, `r34`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    User(crate::domain::UserId),
    Researcher(crate::domain::ResearcherId),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::User(id) => write!(f, "u{id}"),
            Subject::Researcher(id) => write!(f, "r{id}"),
        }
    }
}

impl From<crate::domain::UserId> for Subject {
    fn from(id: crate::domain::UserId) -> Self {
        Subject::User(id)
    }
}

impl From<crate::domain::ResearcherId> for Subject {
    fn from(id: crate::domain::ResearcherId) -> Self {
        Subject::Researcher(id)
    }
}

pub(crate) type DataKey = Arc<Zeroizing<[u8; 32]>>;

/// A subject's key as the store holds it.
pub(crate) enum Stored {
    /// Wrapped by the keyring (a `v1:` ciphertext).
    Wrapped(String),
    Destroyed,
    Missing,
}

/// Keys kept unwrapped in memory: enough for the subjects of a busy day,
/// bounded so a scan over every profile does not hold every key.
const CACHE_CAPACITY: u64 = 20_000;

pub(crate) struct SubjectKeys {
    conn: Mutex<Connection>,
    cache: moka::sync::Cache<String, DataKey>,
}

fn store_error(e: rusqlite::Error) -> CryptoError {
    CryptoError::Store(e.to_string())
}

impl SubjectKeys {
    pub(crate) fn open(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = path.parent() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        // Create the file private before SQLite opens it.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // A key must be on disk before the data sealed with it commits.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS subject_keys (
                 subject      TEXT PRIMARY KEY,
                 wrapped      TEXT,
                 created_at   TEXT NOT NULL,
                 destroyed_at TEXT
             ) WITHOUT ROWID;",
        )?;
        Ok(Self {
            conn: Mutex::new(conn),
            cache: moka::sync::Cache::new(CACHE_CAPACITY),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn cached(&self, subject: &str) -> Option<DataKey> {
        self.cache.get(subject)
    }

    pub(crate) fn remember(&self, subject: &str, key: DataKey) {
        self.cache.insert(subject.to_string(), key);
    }

    pub(crate) fn lookup(&self, subject: &str) -> Result<Stored, CryptoError> {
        let row: Option<Option<String>> = self
            .conn()
            .prepare_cached("SELECT wrapped FROM subject_keys WHERE subject = ?1")
            .and_then(|mut s| s.query_row([subject], |r| r.get(0)).optional())
            .map_err(store_error)?;
        Ok(match row {
            Some(Some(w)) => Stored::Wrapped(w),
            Some(None) => Stored::Destroyed,
            None => Stored::Missing,
        })
    }

    /// Stores new wrapped keys for the subjects that have none (a subject
    /// created by another process meanwhile keeps its key), in one
    /// transaction: one disk sync for a whole batch.
    pub(crate) fn insert_missing(
        &self,
        wrapped: &[(String, String)],
        now: &str,
    ) -> Result<(), CryptoError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(store_error)?;
        for (subject, w) in wrapped {
            tx.prepare_cached(
                "INSERT INTO subject_keys (subject, wrapped, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (subject) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![subject, w, now]))
            .map_err(store_error)?;
        }
        tx.commit().map_err(store_error)
    }

    /// Destroys a subject's key (or records that none may be made), then
    /// checkpoints so no copy of it stays in the WAL. Returns whether a key
    /// existed.
    pub(crate) fn destroy(&self, subject: &str, now: &str) -> Result<bool, CryptoError> {
        self.cache.invalidate(subject);
        let conn = self.conn();
        let had = conn
            .execute(
                "UPDATE subject_keys SET wrapped = NULL, destroyed_at = ?2
                  WHERE subject = ?1 AND wrapped IS NOT NULL",
                params![subject, now],
            )
            .map_err(store_error)?;
        conn.execute(
            "INSERT INTO subject_keys (subject, wrapped, created_at, destroyed_at)
             VALUES (?1, NULL, ?2, ?2) ON CONFLICT (subject) DO NOTHING",
            params![subject, now],
        )
        .map_err(store_error)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(store_error)?;
        Ok(had > 0)
    }

    /// Wrapped keys not under the keyring key whose values start with
    /// `prefix` (`v1:<key id>:`), up to `limit`.
    pub(crate) fn wrapped_not_under(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, CryptoError> {
        self.conn()
            .prepare(
                "SELECT subject, wrapped FROM subject_keys
                  WHERE wrapped IS NOT NULL AND substr(wrapped, 1, ?1) != ?2 LIMIT ?3",
            )
            .and_then(|mut s| {
                s.query_map(params![prefix.len() as i64, prefix, limit as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect()
            })
            .map_err(store_error)
    }

    pub(crate) fn count_not_under(&self, prefix: &str) -> Result<usize, CryptoError> {
        self.conn()
            .query_row(
                "SELECT COUNT(*) FROM subject_keys
                  WHERE wrapped IS NOT NULL AND substr(wrapped, 1, ?1) != ?2",
                params![prefix.len() as i64, prefix],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(store_error)
    }

    /// Replaces wrapped keys (rewrapped under a new keyring key).
    pub(crate) fn rewrap(&self, rows: &[(String, String)]) -> Result<(), CryptoError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(store_error)?;
        for (subject, w) in rows {
            tx.prepare_cached(
                "UPDATE subject_keys SET wrapped = ?2 WHERE subject = ?1 AND wrapped IS NOT NULL",
            )
            .and_then(|mut s| s.execute(params![subject, w]))
            .map_err(store_error)?;
        }
        tx.commit().map_err(store_error)
    }

    /// (live keys, destroyed keys).
    pub(crate) fn counts(&self) -> Result<(usize, usize), CryptoError> {
        self.conn()
            .query_row(
                "SELECT COUNT(wrapped), COUNT(*) - COUNT(wrapped) FROM subject_keys",
                [],
                |r| Ok((r.get::<_, i64>(0)? as usize, r.get::<_, i64>(1)? as usize)),
            )
            .map_err(store_error)
    }
}

#[cfg(test)]
mod tests {
    use super::Subject;
    use crate::config::Config;
    use crate::crypto::{CryptoError, Keyring};
    use crate::domain::{ResearcherId, UserId};

    fn ring(dir: &std::path::Path) -> Keyring {
        let mut c = Config::default();
        c.storage.data_dir = dir.to_path_buf();
        Keyring::load_or_create(&c).unwrap()
    }

    #[test]
    fn a_subjects_values_read_back_until_the_key_is_destroyed() {
        let dir = tempfile::tempdir().unwrap();
        let k = ring(dir.path());
        let ada = k.encrypt_for(UserId(7), "users.email", "ada@example.org");
        let bob = k.encrypt_for(ResearcherId(7), "researchers.email", "bob@example.org");
        assert!(ada.starts_with("v2:u7:"), "{ada}");
        assert!(bob.starts_with("v2:r7:"), "{bob}");
        assert_eq!(k.decrypt("users.email", &ada).unwrap(), "ada@example.org");
        assert!(k.decrypt("researchers.email", &ada).is_err());
        // Another process (or a restart) reads the same store.
        assert_eq!(
            ring(dir.path()).decrypt("users.email", &ada).unwrap(),
            "ada@example.org"
        );

        assert!(k.destroy_subject_key(UserId(7)).unwrap());
        assert!(matches!(
            k.decrypt("users.email", &ada),
            Err(CryptoError::Shredded)
        ));
        assert!(matches!(
            ring(dir.path()).decrypt("users.email", &ada),
            Err(CryptoError::Shredded)
        ));
        // Others are untouched; a value written for the erased subject later
        // is unreadable at birth.
        assert_eq!(
            k.decrypt("researchers.email", &bob).unwrap(),
            "bob@example.org"
        );
        let late = k.encrypt_for(UserId(7), "users.email", "again@example.org");
        assert!(matches!(
            k.decrypt("users.email", &late),
            Err(CryptoError::Shredded)
        ));
        assert_eq!(k.subject_key_counts().unwrap(), (1, 1));
    }

    #[test]
    fn the_destroyed_key_leaves_no_bytes_in_the_store() {
        use base64::Engine;
        let dir = tempfile::tempdir().unwrap();
        let k = ring(dir.path());
        k.encrypt_for(UserId(1), "t.c", "x");
        let wrapped: String = {
            let conn = k.subjects.conn();
            conn.query_row(
                "SELECT wrapped FROM subject_keys WHERE subject = 'u1'",
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        let body = wrapped.rsplit(':').next().unwrap().to_string();
        k.destroy_subject_key(UserId(1)).unwrap();
        let keys_dir = dir.path().join("keys");
        for entry in std::fs::read_dir(&keys_dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&body)
                .unwrap();
            for needle in [body.as_bytes(), &raw[..]] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{} still holds the destroyed key",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn a_keyring_rotation_rewraps_subject_keys() {
        let dir = tempfile::tempdir().unwrap();
        let k = ring(dir.path());
        let v = k.encrypt_for(Subject::User(UserId(3)), "t.c", "kept");
        k.add_primary("now").unwrap();
        assert_eq!(k.subject_keys_not_under_primary().unwrap(), 1);
        assert_eq!(k.rewrap_subject_keys(10, &|_, _| {}).unwrap(), 1);
        assert_eq!(k.subject_keys_not_under_primary().unwrap(), 0);
        k.drop_retired().unwrap();
        assert_eq!(ring(dir.path()).decrypt("t.c", &v).unwrap(), "kept");
    }

    #[test]
    fn the_store_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        ring(dir.path());
        let mode = std::fs::metadata(dir.path().join("keys/subject_keys.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
