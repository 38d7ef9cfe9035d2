//! `colloquy restore FILE`: the checks and the swap are in
//! `db::restore`; this refuses while a server runs and reports.

use std::path::Path;

use anyhow::bail;

use crate::config::{Config, KeySource};
use crate::crypto::Keyring;
use crate::db::{restore, serve_lock};

pub(super) fn run(config: &Config, file: &Path) -> anyhow::Result<()> {
    let _lock = serve_lock::acquire(config, "restore")?;
    let keyring = Keyring::keyring_path(config);
    if config.security.key_source == KeySource::File && !keyring.exists() {
        bail!(
            "there is no keyring at {}: put the keyring that belongs to this backup there first \
             (a database backup without its keyring cannot be read)",
            keyring.display()
        );
    }
    let keys = Keyring::load_or_create(config)?;
    let database = config.database_path();
    let stamp = crate::domain::zone::file_stamp(chrono::Utc::now());
    println!("checking {} …", file.display());
    let done = restore::restore(file, &database, &keys, &stamp, |done, total| {
        if total > 0 && (done == total || done % 4096 == 0) {
            println!("  copied {done}/{total} pages");
        }
    })?;
    println!(
        "restored {} into {} ({} pages; audit trail verified, {} rows)",
        file.display(),
        database.display(),
        done.pages,
        done.audit_rows
    );
    match done.kept_aside {
        Some(aside) => println!("the database it replaced is kept at {}", aside.display()),
        None => println!("there was no database to keep aside"),
    }
    println!(
        "use the newest copy of {} with it; then start Colloquy and check /readyz",
        Keyring::subject_keys_path(config).display()
    );
    Ok(())
}
