//! Checkpoints on a thread of their own. SQLite's automatic checkpoint runs
//! on the connection whose commit crossed the threshold, so one write in a
//! thousand paid for copying the WAL into the database while every write
//! queued behind it waited (about a tenth of the writer thread's time in
//! the booking benchmark). Here the writer only says that it committed; a
//! second connection copies the committed pages in the background
//! (`PASSIVE`: it never blocks the writer or a reader) at most every
//! `INTERVAL` while writes keep coming.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::Duration;

use rusqlite::Connection;

use crate::config::StorageConfig;

/// How long commits gather before the next checkpoint.
const INTERVAL: Duration = Duration::from_millis(50);

/// The writers' side: `committed` after each commit.
#[derive(Clone)]
pub(super) struct Checkpointer {
    wake: SyncSender<()>,
}

impl Checkpointer {
    /// Opens its own connection to `path` and starts the thread. The
    /// writer must have `wal_autocheckpoint` off (`Db::open`).
    pub(super) fn start(path: &Path, cfg: &StorageConfig) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_millis(cfg.busy_timeout_ms))?;
        let (wake, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &rx))?;
        Ok(Self { wake })
    }

    /// Notes a commit; never blocks.
    pub(super) fn committed(&self) {
        match self.wake.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) => {}
            Err(TrySendError::Disconnected(())) => {
                tracing::error!(
                    "the checkpoint thread has stopped; the WAL is no longer copied back"
                );
            }
        }
    }
}

fn run(conn: &Connection, wake: &Receiver<()>) {
    // Ends when the writer (the only sender) is gone.
    while wake.recv().is_ok() {
        std::thread::sleep(INTERVAL);
        // Commits made during the sleep are covered by this checkpoint.
        while wake.try_recv().is_ok() {}
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpoint failed; retried after the next commit");
        }
    }
    // A last checkpoint, so a clean shutdown leaves little in the WAL.
    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
}

#[cfg(test)]
mod tests {
    use crate::config::StorageConfig;
    use crate::db::Db;

    /// The writer's automatic checkpoint is off, so the database file
    /// grows only when this thread copies the WAL back into it.
    #[tokio::test]
    async fn committed_pages_reach_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let db = Db::open(&StorageConfig::default(), &path).unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        db.write(|tx| {
            tx.execute_batch("CREATE TABLE filler (v BLOB)")?;
            for _ in 0..64 {
                tx.execute("INSERT INTO filler (v) VALUES (zeroblob(16384))", [])?;
            }
            Ok(())
        })
        .await
        .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::fs::metadata(&path).unwrap().len() < before + 1_000_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint within 5 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
