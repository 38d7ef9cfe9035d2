//! `colloquy restore FILE`: puts a backup in place of the database, after
//! checking that the backup is whole and that this keyring reads it. The
//! database it replaces is kept aside, never deleted.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rusqlite::Connection;

use crate::crypto::Keyring;
use crate::db::keyring_guard;
use crate::db::repos::audit::{self, Verification};

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// Where the replaced database (and its WAL, if any) now is.
    pub kept_aside: Option<PathBuf>,
    pub pages: i32,
    pub audit_rows: i64,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_with_wal(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(with_suffix(path, suffix));
    }
}

/// Checks the copy at `staging`: a Colloquy database, whole, whose audit
/// trail this keyring verifies. Answers (audit rows, pages).
fn check(staging: &Path, keys: &Keyring) -> anyhow::Result<(i64, i32)> {
    let conn = Connection::open(staging)?;
    let colloquy: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'refinery_schema_history')",
            [],
            |r| r.get(0),
        )
        .context("the backup is not a database")?;
    if !colloquy {
        bail!("the backup is not a Colloquy database (it has no migration history)");
    }
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if integrity != "ok" {
        bail!("the backup is damaged: {integrity}");
    }
    keyring_guard::keyring_reads(&conn, staging, keys)?;
    let pages: i32 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    match audit::verify(&conn, keys).map_err(|e| anyhow::anyhow!("{e}"))? {
        Verification::Intact { rows } => Ok((rows, pages)),
        Verification::Broken { row_id, reason } => bail!(
            "the backup's audit trail does not verify with this keyring (row {row_id}: {reason})"
        ),
    }
}

/// Copies `backup` next to `database`, checks it, moves the current
/// database aside as `<database>.before-restore-<stamp>` and puts the copy
/// in its place. The caller holds the serve lock.
pub fn restore(
    backup: &Path,
    database: &Path,
    keys: &Keyring,
    stamp: &str,
    progress: impl Fn(i32, i32),
) -> anyhow::Result<Restored> {
    if !backup.is_file() {
        bail!("there is no backup at {}", backup.display());
    }
    // SQLite's own answer for another file is "not an error: file is not a
    // database"; say it plainly before copying anything.
    let mut head = [0u8; 16];
    let read =
        std::fs::File::open(backup).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head));
    if read.is_err() || &head != b"SQLite format 3\0" {
        bail!(
            "{} is not a database backup (a file from `colloquy backup` starts with \"SQLite format 3\"); nothing was changed",
            backup.display()
        );
    }
    let staging = with_suffix(database, ".restoring");
    remove_with_wal(&staging);
    let copied = super::backup(backup, &staging, progress);
    let checked = copied.and_then(|()| check(&staging, keys));
    let (audit_rows, pages) = match checked {
        Ok(checked) => checked,
        Err(e) => {
            remove_with_wal(&staging);
            return Err(e.context(format!(
                "nothing was changed; {} is as it was",
                database.display()
            )));
        }
    };
    let kept_aside = if database.exists() {
        let aside = with_suffix(database, &format!(".before-restore-{stamp}"));
        for suffix in ["", "-wal", "-shm"] {
            let from = with_suffix(database, suffix);
            if from.exists() {
                std::fs::rename(&from, with_suffix(&aside, suffix))
                    .with_context(|| format!("moving {} aside", from.display()))?;
            }
        }
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&staging, database)
        .with_context(|| format!("moving the restored copy to {}", database.display()))?;
    Ok(Restored {
        kept_aside,
        pages,
        audit_rows,
    })
}
