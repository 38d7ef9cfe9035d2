//! One server per data directory: `serve` holds an exclusive lock on
//! `<data_dir>/colloquy.lock` while it runs (the operating system drops it
//! when the process ends, even by `SIGKILL`). `restore` takes the same
//! lock, so it never swaps the database under a running server, and so
//! does `payments release-held`, so no accept captures a hold it releases.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::config::Config;

/// Held for as long as the value lives.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

pub fn path(config: &Config) -> PathBuf {
    config.storage.data_dir.join("colloquy.lock")
}

/// Takes the data directory's lock, or says who holds it; `doing` names
/// what was refused ("start", "restore").
pub fn acquire(config: &Config, doing: &str) -> anyhow::Result<ServeLock> {
    let dir = &config.storage.data_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = path(config);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(ServeLock { _file: file }),
        Err(TryLockError::WouldBlock) => bail!(
            "cannot {doing}: a Colloquy server is running on {} (it holds {}); stop it first",
            dir.display(),
            path.display()
        ),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}
