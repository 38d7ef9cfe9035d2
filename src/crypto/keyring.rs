//! The keyring: data keys by id (one primary), plus a separate blind-index
//! key. Stored as JSON in `<data_dir>/keys/keyring.json` (0600) or given in
//! the `COLLOQUY_KEYRING` environment variable.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroize;

use super::cipher::{self, CryptoError};
use super::subject_keys::SubjectKeys;
use crate::config::{Config, KeySource};

pub const KEYRING_ENV: &str = "COLLOQUY_KEYRING";

#[derive(Clone, Serialize, Deserialize)]
struct StoredKey {
    id: String,
    /// base64 of 32 random bytes.
    secret: String,
    created_at: String,
}

#[derive(Clone, Serialize, Deserialize)]
struct KeyringFile {
    version: u32,
    primary: String,
    keys: Vec<StoredKey>,
    /// base64 of the blind-index key; never rotated with the data keys,
    /// because every blind index would have to be recomputed.
    index_key: String,
}

struct Secret32([u8; 32]);

impl Drop for Secret32 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

struct Loaded {
    primary: String,
    /// Field keys derived per key id (domain-separated from JWT keys).
    field: BTreeMap<String, Secret32>,
    jwt: BTreeMap<String, Secret32>,
    index: Secret32,
    file: KeyringFile,
}

enum Source {
    File(PathBuf),
    Env,
}

pub struct Keyring {
    source: Source,
    loaded: RwLock<Loaded>,
    /// When the key file was last looked at, and its modification time
    /// then: a running server picks up a rotation made by the CLI.
    watch: std::sync::Mutex<(std::time::Instant, Option<std::time::SystemTime>)>,
    /// Per-subject data keys, wrapped by this keyring.
    pub(super) subjects: SubjectKeys,
}

/// How often a running server checks the key file for a rotation.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// HMAC-SHA256 keyed with `key`. HMAC takes keys of any length, so the
/// fallback arm is never taken.
/// HMAC-SHA256 keyed with `key` (any length is valid).
pub fn hmac(key: &[u8]) -> Hmac<Sha256> {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => <Hmac<Sha256> as Mac>::new(&Default::default()),
    }
}

fn derive(key: &[u8; 32], label: &str) -> Secret32 {
    let mut mac = hmac(key);
    mac.update(label.as_bytes());
    let out = mac.finalize().into_bytes();
    let mut k = [0u8; 32];
    k.copy_from_slice(&out);
    Secret32(k)
}

fn decode32(b64: &str) -> anyhow::Result<[u8; 32]> {
    let raw = STANDARD.decode(b64.trim()).context("key is not base64")?;
    raw.try_into().map_err(|_| anyhow!("key is not 32 bytes"))
}

pub(super) fn random32() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut k);
    k
}

fn new_file(now: &str) -> KeyringFile {
    KeyringFile {
        version: 1,
        primary: "k1".into(),
        keys: vec![StoredKey {
            id: "k1".into(),
            secret: STANDARD.encode(random32()),
            created_at: now.into(),
        }],
        index_key: STANDARD.encode(random32()),
    }
}

/// A fresh keyring as JSON, for operators who keep keys in the environment.
pub fn generate_keyring_json() -> String {
    let file = new_file(&chrono::Utc::now().to_rfc3339());
    serde_json::to_string(&file).unwrap_or_default()
}

impl Loaded {
    fn from_file(file: KeyringFile) -> anyhow::Result<Self> {
        if file.version != 1 {
            bail!("keyring version {} is not supported", file.version);
        }
        let mut field = BTreeMap::new();
        let mut jwt = BTreeMap::new();
        for k in &file.keys {
            if k.id.is_empty() || k.id.contains(':') {
                bail!("key id `{}` is invalid", k.id);
            }
            let mut raw = decode32(&k.secret).with_context(|| format!("key `{}`", k.id))?;
            field.insert(k.id.clone(), derive(&raw, "colloquy field encryption v1"));
            jwt.insert(k.id.clone(), derive(&raw, "colloquy jwt signing v1"));
            raw.zeroize();
        }
        if !field.contains_key(&file.primary) {
            bail!("the primary key `{}` is not in the keyring", file.primary);
        }
        let mut index_raw = decode32(&file.index_key).context("index_key")?;
        let index = derive(&index_raw, "colloquy blind index v1");
        index_raw.zeroize();
        Ok(Self {
            primary: file.primary.clone(),
            field,
            jwt,
            index,
            file,
        })
    }
}

impl Keyring {
    pub fn keyring_path(config: &Config) -> PathBuf {
        config.storage.data_dir.join("keys").join("keyring.json")
    }

    /// Where the per-subject keys live: beside the keyring, never in the
    /// database (whatever the key source).
    pub fn subject_keys_path(config: &Config) -> PathBuf {
        config.storage.data_dir.join("keys").join("subject_keys.db")
    }

    /// Loads the keyring, creating it (mode 0600) on first start when keys
    /// come from the data dir.
    pub fn load_or_create(config: &Config) -> anyhow::Result<Self> {
        match config.security.key_source {
            KeySource::Env => {
                let json = std::env::var(KEYRING_ENV).map_err(|_| {
                    anyhow!("security.key_source = \"env\" but {KEYRING_ENV} is not set; `colloquy keys generate` prints a new keyring")
                })?;
                let file: KeyringFile =
                    serde_json::from_str(&json).context("COLLOQUY_KEYRING is not a keyring")?;
                Ok(Self {
                    source: Source::Env,
                    loaded: RwLock::new(Loaded::from_file(file)?),
                    watch: std::sync::Mutex::new((std::time::Instant::now(), None)),
                    subjects: SubjectKeys::open(&Self::subject_keys_path(config))?,
                })
            }
            KeySource::File => {
                let path = Self::keyring_path(config);
                if !path.exists() {
                    let file = new_file(&chrono::Utc::now().to_rfc3339());
                    write_private(&path, &file)?;
                    tracing::info!(path = %path.display(), "generated a new keyring; back it up: without it the encrypted data is lost");
                }
                let file = read_file(&path)?;
                let mtime = modified(&path);
                Ok(Self {
                    source: Source::File(path),
                    loaded: RwLock::new(Loaded::from_file(file)?),
                    watch: std::sync::Mutex::new((std::time::Instant::now(), mtime)),
                    subjects: SubjectKeys::open(&Self::subject_keys_path(config))?,
                })
            }
        }
    }

    /// Reloads the key file if it changed since the last look (at most
    /// every few seconds), so new values use a newly rotated primary key.
    fn follow_rotation(&self) {
        self.check_key_file(WATCH_INTERVAL);
    }

    /// Stats the key file if `min_interval` has passed since the last look,
    /// and reloads it only if its modification time changed. An unknown key
    /// id checks at once: a stat is cheap, and a reload happens only after
    /// a real change, so forged key ids cannot make the server re-read keys.
    fn check_key_file(&self, min_interval: std::time::Duration) {
        let Source::File(path) = &self.source else {
            return;
        };
        let changed = {
            let mut watch = self.watch.lock().unwrap_or_else(|p| p.into_inner());
            if watch.0.elapsed() < min_interval {
                return;
            }
            let now = modified(path);
            let changed = now != watch.1;
            *watch = (std::time::Instant::now(), now);
            changed
        };
        if changed {
            if let Err(e) = self.reload() {
                tracing::error!(error = %e, "the key file changed but could not be read; keeping the loaded keys");
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.loaded.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-reads the keyring from its source (after an offline rotation).
    pub fn reload(&self) -> anyhow::Result<()> {
        let file = match &self.source {
            Source::File(path) => read_file(path)?,
            Source::Env => return Ok(()),
        };
        let loaded = Loaded::from_file(file)?;
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        Ok(())
    }

    pub fn primary_id(&self) -> String {
        self.read().primary.clone()
    }

    pub fn key_ids(&self) -> Vec<String> {
        self.read().field.keys().cloned().collect()
    }

    /// Encrypts `plaintext` for the column named by `aad` (e.g.
    /// `invoices.buyer`) under the keyring's primary key: for values the
    /// institution keeps whoever they are about. A person's own data goes
    /// through `encrypt_for`.
    pub fn encrypt(&self, aad: &str, plaintext: &str) -> String {
        self.follow_rotation();
        let loaded = self.read();
        let key = loaded
            .field
            .get(&loaded.primary)
            .map(|k| k.0)
            .unwrap_or([0; 32]);
        cipher::seal(
            &key,
            cipher::INSTANCE,
            &loaded.primary,
            aad,
            plaintext.as_bytes(),
        )
    }

    pub fn decrypt(&self, aad: &str, stored: &str) -> Result<String, CryptoError> {
        let (version, kid, blob) = cipher::split(stored)?;
        if version == cipher::SUBJECT {
            let key = self.subject_key(kid, false)?.ok_or(CryptoError::Shredded)?;
            let plain = cipher::open(&key, aad, &blob)?;
            return String::from_utf8(plain).map_err(|_| CryptoError::Malformed);
        }
        let key = { self.read().field.get(kid).map(|k| k.0) };
        let key = match key {
            Some(k) => k,
            None => {
                // A rotation may have happened while we were running.
                self.check_key_file(std::time::Duration::ZERO);
                self.read()
                    .field
                    .get(kid)
                    .map(|k| k.0)
                    .ok_or_else(|| CryptoError::UnknownKey(kid.to_string()))?
            }
        };
        let plain = cipher::open(&key, aad, &blob)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }

    /// HMAC-SHA256 of an already normalised value, hex; `domain` keeps the
    /// indexes of different kinds of value apart.
    pub fn blind_index(&self, domain: &str, normalised: &str) -> String {
        let loaded = self.read();
        let mut mac = hmac(&loaded.index.0);
        mac.update(domain.as_bytes());
        mac.update(b"\0");
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The primary key id and its JWT signing secret.
    pub fn jwt_signing_key(&self) -> (String, [u8; 32]) {
        self.follow_rotation();
        let loaded = self.read();
        let key = loaded
            .jwt
            .get(&loaded.primary)
            .map(|k| k.0)
            .unwrap_or([0; 32]);
        (loaded.primary.clone(), key)
    }

    /// The JWT secret for a key id, if the keyring still holds it.
    pub fn jwt_verification_key(&self, kid: &str) -> Option<[u8; 32]> {
        if let Some(k) = self.read().jwt.get(kid) {
            return Some(k.0);
        }
        self.check_key_file(std::time::Duration::ZERO);
        self.read().jwt.get(kid).map(|k| k.0)
    }

    /// Adds a new primary key and saves the keyring; returns the new id.
    /// With keys in the environment, the new keyring is returned as JSON for
    /// the operator to store.
    pub fn add_primary(&self, now: &str) -> anyhow::Result<(String, Option<String>)> {
        let mut file = self.read().file.clone();
        let next = file
            .keys
            .iter()
            .filter_map(|k| k.id.strip_prefix('k').and_then(|n| n.parse::<u64>().ok()))
            .max()
            .unwrap_or(0)
            + 1;
        let id = format!("k{next}");
        file.keys.push(StoredKey {
            id: id.clone(),
            secret: STANDARD.encode(random32()),
            created_at: now.into(),
        });
        file.primary = id.clone();
        let printed = self.save(file)?;
        Ok((id, printed))
    }

    /// Removes every key but the primary (after a completed re-encryption).
    pub fn drop_retired(&self) -> anyhow::Result<(Vec<String>, Option<String>)> {
        let mut file = self.read().file.clone();
        let primary = file.primary.clone();
        let dropped: Vec<String> = file
            .keys
            .iter()
            .filter(|k| k.id != primary)
            .map(|k| k.id.clone())
            .collect();
        if dropped.is_empty() {
            return Ok((dropped, None));
        }
        file.keys.retain(|k| k.id == primary);
        let printed = self.save(file)?;
        Ok((dropped, printed))
    }

    fn save(&self, file: KeyringFile) -> anyhow::Result<Option<String>> {
        let loaded = Loaded::from_file(file.clone())?;
        let printed = match &self.source {
            Source::File(path) => {
                write_private(path, &file)?;
                None
            }
            Source::Env => Some(serde_json::to_string(&file)?),
        };
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        Ok(printed)
    }
}

fn read_file(path: &Path) -> anyhow::Result<KeyringFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a keyring", path.display()))
}

/// Writes the keyring atomically with mode 0600 in a 0700 directory.
fn write_private(path: &Path, file: &KeyringFile) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("keyring path has no directory"))?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let tmp = dir.join(".keyring.json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(serde_json::to_string_pretty(file)?.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(dir: &Path) -> Keyring {
        let mut c = Config::default();
        c.storage.data_dir = dir.to_path_buf();
        Keyring::load_or_create(&c).unwrap()
    }

    #[test]
    fn values_round_trip_and_are_bound_to_their_column() {
        let dir = tempfile::tempdir().unwrap();
        let k = ring(dir.path());
        let ct = k.encrypt("users.email", "ada@example.org");
        assert!(!ct.contains("ada"));
        assert_eq!(k.decrypt("users.email", &ct).unwrap(), "ada@example.org");
        assert!(k.decrypt("audit_log.ip", &ct).is_err());
    }

    #[test]
    fn the_key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        ring(dir.path());
        let mut c = Config::default();
        c.storage.data_dir = dir.path().to_path_buf();
        let mode = std::fs::metadata(Keyring::keyring_path(&c))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn old_ciphertexts_read_after_rotation_and_new_ones_use_the_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let k = ring(dir.path());
        let old = k.encrypt("t.c", "secret");
        let (id, _) = k.add_primary("now").unwrap();
        assert_eq!(id, "k2");
        assert_eq!(k.decrypt("t.c", &old).unwrap(), "secret");
        let new = k.encrypt("t.c", "secret");
        assert_eq!(key_id(&new), "k2");
        k.drop_retired().unwrap();
        assert!(matches!(
            k.decrypt("t.c", &old),
            Err(CryptoError::UnknownKey(_))
        ));
        assert_eq!(k.decrypt("t.c", &new).unwrap(), "secret");
        // A restart reads the saved file.
        assert_eq!(ring(dir.path()).decrypt("t.c", &new).unwrap(), "secret");
    }

    fn key_id(s: &str) -> &str {
        crate::crypto::key_id_of(s).unwrap()
    }

    #[test]
    fn a_running_instance_follows_a_rotation_made_by_another_process() {
        let dir = tempfile::tempdir().unwrap();
        let server = ring(dir.path());
        let cli = ring(dir.path());
        cli.add_primary("now").unwrap();
        // Pretend the watch interval has passed.
        {
            let mut w = server.watch.lock().unwrap();
            w.0 = std::time::Instant::now()
                .checked_sub(WATCH_INTERVAL * 2)
                .unwrap_or(w.0);
            // Same-second writes can leave the mtime unchanged on coarse
            // file systems; force the comparison to see a change.
            w.1 = None;
        }
        let fresh = server.encrypt("t.c", "v");
        assert_eq!(key_id(&fresh), "k2");
        assert_eq!(cli.decrypt("t.c", &fresh).unwrap(), "v");
    }

    #[test]
    fn blind_indexes_are_stable_and_domain_separated() {
        let dir = tempfile::tempdir().unwrap();
        let k = ring(dir.path());
        assert_eq!(
            k.blind_index("email", "a@b.org"),
            k.blind_index("email", "a@b.org")
        );
        assert_ne!(
            k.blind_index("email", "a@b.org"),
            k.blind_index("ip", "a@b.org")
        );
    }
}
