//! Copies the WAL back into the database on a thread of its own, so the
//! writer does not. With SQLite's automatic checkpoint the commit that
//! crossed the threshold copied the pages and waited for two disk syncs
//! while every queued write waited behind it: under 256 booking clients a
//! quarter of the writer's time went to `fsync` (docs/performance.md).
//!
//! After each commit the writer pokes this thread, which runs a `PASSIVE`
//! checkpoint on its own connection: it copies what readers no longer need
//! and never blocks the writer or a reader. The writer's own automatic
//! checkpoint stays as a backstop (`storage.wal_autocheckpoint_pages`);
//! when it runs, the pages are mostly copied already, and a checkpoint
//! that finds them all copied lets the next commit start the WAL over.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

/// The shortest time between two checkpoints: each costs two disk syncs,
/// so a stream of commits is copied in passes, not after every commit.
const MIN_INTERVAL: Duration = Duration::from_millis(20);

pub(super) struct Checkpointer {
    wake: SyncSender<()>,
}

impl Checkpointer {
    /// Opens a connection to `path` and starts the thread; it ends when
    /// the `Checkpointer` is dropped.
    pub(super) fn start(path: &Path, busy_timeout: Duration) -> anyhow::Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(busy_timeout)?;
        // This connection never commits, but make sure it never
        // checkpoints on its own schedule either.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (wake, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &rx))?;
        Ok(Self { wake })
    }

    /// Asks for a checkpoint soon. A poke while one is pending is the same
    /// poke (the channel holds one), and one after the thread ended is moot.
    pub(super) fn poke(&self) {
        let _ = self.wake.try_send(());
    }
}

fn run(conn: &Connection, rx: &Receiver<()>) {
    let mut last = Instant::now();
    while rx.recv().is_ok() {
        if let Some(wait) = MIN_INTERVAL.checked_sub(last.elapsed()) {
            std::thread::sleep(wait);
        }
        last = Instant::now();
        // (busy, frames in the WAL, frames copied); a busy answer means
        // another checkpoint was running, which is as good.
        let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        match done {
            Ok((frames, copied)) => {
                tracing::trace!(frames, copied, "checkpoint");
            }
            Err(e) => tracing::warn!(error = %e, "background checkpoint failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_len(path: &Path) -> u64 {
        std::fs::metadata(path.with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// The writer never checkpoints here, so its WAL only starts over (an
    /// insert that no longer makes the file longer) once the thread has
    /// copied every frame back.
    #[test]
    fn the_thread_copies_the_wal_back_so_it_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer
            .execute_batch("CREATE TABLE t (v BLOB NOT NULL)")
            .unwrap();
        let insert = || {
            writer
                .execute("INSERT INTO t (v) VALUES (zeroblob(3000))", [])
                .unwrap()
        };
        for _ in 0..50 {
            insert();
        }
        let grown = wal_len(&path);
        insert();
        assert!(wal_len(&path) > grown, "without a checkpoint the WAL grows");

        let ckpt = Checkpointer::start(&path, Duration::from_secs(5)).unwrap();
        ckpt.poke();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            std::thread::sleep(MIN_INTERVAL * 2);
            let before = wal_len(&path);
            insert();
            if wal_len(&path) == before {
                break;
            }
            assert!(Instant::now() < deadline, "the WAL never started over");
            ckpt.poke();
        }
        let rows: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert!(rows >= 52);
    }
}
