//! The server never starts with data it cannot read: a database that holds
//! accounts or profiles with no keyring beside it, or with a keyring that
//! is not the one that wrote it, stops start-up (and every command) with a
//! message that says what to restore.

use std::path::Path;

use anyhow::bail;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::config::{Config, KeySource};
use crate::crypto::{CryptoError, Keyring};
use crate::db::repos::audit::IP_AAD;

/// Opens an existing database for these checks (never creates one).
fn open(path: &Path) -> anyhow::Result<Option<Connection>> {
    if !path.exists() {
        return Ok(None);
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(Some(conn))
}

/// Whether the query finds a row (false when its table does not exist yet:
/// a database made by `migrate` alone holds nothing that needs keys).
fn finds(conn: &Connection, sql: &str) -> bool {
    conn.query_row(&format!("SELECT EXISTS ({sql})"), [], |r| {
        r.get::<_, bool>(0)
    })
    .unwrap_or(false)
}

/// Before a new keyring file would be made: refuses when the database
/// already holds accounts, researchers' e-mail addresses or mail still to
/// send, whose encrypted fields a new keyring could never read.
pub fn refuse_new_keyring_for_old_data(config: &Config) -> anyhow::Result<()> {
    if config.security.key_source != KeySource::File {
        return Ok(());
    }
    let keyring = Keyring::keyring_path(config);
    if keyring.exists() {
        return Ok(());
    }
    let db = config.database_path();
    let Some(conn) = open(&db)? else {
        return Ok(());
    };
    if finds(&conn, "SELECT 1 FROM users")
        || finds(
            &conn,
            "SELECT 1 FROM researchers WHERE email_enc IS NOT NULL",
        )
        || finds(&conn, "SELECT 1 FROM mail_outbox WHERE status <> 'sent'")
    {
        bail!(
            "the keyring {} is missing, but the database {} holds data encrypted with it. \
             Restore keys/keyring.json (and keys/subject_keys.db) from the backup made with this database; \
             a new keyring could not read any encrypted field, so none is made",
            keyring.display(),
            db.display()
        );
    }
    Ok(())
}

/// Once the keyring is loaded: the newest encrypted audit IP (sealed for
/// every audited request that came over HTTP) must decrypt. If it does
/// not, the keyring belongs to another database.
pub fn check_keyring_reads(db: &Path, keys: &Keyring) -> anyhow::Result<()> {
    match open(db)? {
        Some(conn) => keyring_reads(&conn, db, keys),
        None => Ok(()),
    }
}

/// `check_keyring_reads` on an open connection to the database at `db`.
pub fn keyring_reads(conn: &Connection, db: &Path, keys: &Keyring) -> anyhow::Result<()> {
    let newest: Option<(i64, String)> = conn
        .query_row(
            // Among the newest thousand rows only: start-up stays quick on
            // a large trail where few rows carry an IP.
            "SELECT id, ip_enc FROM (SELECT id, ip_enc FROM audit_log ORDER BY id DESC LIMIT 1000)
              WHERE ip_enc IS NOT NULL LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .unwrap_or(None);
    if let Some((id, sealed)) = newest {
        // A shredded subject (an erased person) is expected, not a wrong key.
        match keys.decrypt(IP_AAD, &sealed) {
            Ok(_) | Err(CryptoError::Shredded) => {}
            Err(e) => {
                bail!(
                "this keyring cannot read the database {} (audit row {id}: {e}). \
                 Put back the keyring that belongs to this database (keys/keyring.json or COLLOQUY_KEYRING) \
                 and the newest keys/subject_keys.db; Colloquy does not start with data it cannot read",
                    db.display()
                );
            }
        }
    }
    Ok(())
}
