//! SQLite access: one writer connection used in `BEGIN IMMEDIATE`
//! transactions, a small pool of reader connections, all of it on the
//! blocking thread pool. WAL lets the readers run beside the writer.

pub mod changes;
mod checkpointer;
pub mod encrypted_columns;
pub mod keyring_guard;
pub mod personal_data;
pub mod repos;
pub mod restore;
pub mod serve_lock;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use tokio::sync::Semaphore;

use crate::config::{StorageConfig, Synchronous};
use crate::error::{AppError, AppResult};

mod embedded {
    refinery::embed_migrations!("migrations");
}

#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    changes: Arc<changes::Changes>,
    writer: Arc<Mutex<Connection>>,
    queue: writer::Queue,
    readers: Mutex<Vec<Connection>>,
    reader_permits: Semaphore,
}

fn configure(conn: &Connection, cfg: &StorageConfig) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_millis(cfg.busy_timeout_ms))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let sync = match cfg.synchronous {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Hot paths use prepare_cached; keep every statement of a request parsed.
    conn.set_prepared_statement_cache_capacity(256);
    Ok(())
}

/// The writer connection's page cache, in KiB (readers keep SQLite's 2 MB).
const WRITER_CACHE_KIB: i64 = 8 * 1024;

/// Opens the writer connection, switches to WAL and applies migrations.
pub fn open_writer(path: &Path, cfg: &StorageConfig) -> anyhow::Result<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Freed space is zeroed: an erased value's bytes do not linger in the
    // file's free pages (the WAL is checkpointed after an erasure).
    conn.pragma_update(None, "secure_delete", "ON")?;
    // Only the writer's commits checkpoint, so only it needs the setting.
    conn.pragma_update(None, "wal_autocheckpoint", cfg.wal_autocheckpoint_pages)?;
    // A batch of writes dirties index pages all over the file; with
    // SQLite's 2 MB the writer spilled them mid-transaction and read them
    // back. 8 MiB: bookings at 256 clients 6,151–6,201 → 6,557–6,884
    // requests/s; 32 MiB did no better (docs/performance.md).
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    configure(&conn, cfg)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Opens an existing database read-only, for commands that only look (it
/// is never created or migrated); `None` when there is none yet.
pub fn open_read_only(path: &Path, cfg: &StorageConfig) -> anyhow::Result<Option<Connection>> {
    if !path.exists() {
        return Ok(None);
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .with_context(|| format!("opening {} read-only", path.display()))?;
    configure(&conn, cfg)?;
    Ok(Some(conn))
}

/// Whether the database has `table`: one written by an older version may
/// not have it yet.
pub fn has_table(conn: &Connection, table: &str) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
        )?
        .query_row([table], |r| r.get(0))?)
}

/// Applies the embedded migrations; returns how many ran.
pub fn migrate(conn: &mut Connection) -> anyhow::Result<usize> {
    let report = embedded::migrations::runner()
        .run(conn)
        .context("applying database migrations")?;
    Ok(report.applied_migrations().len())
}

impl Inner {
    /// Runs `f` on a connection of the pool, in one read transaction: one
    /// snapshot for all its statements (a view built from several sees one
    /// state) and one WAL read lock instead of one per statement. A panic
    /// in `f` becomes an error, as in the writer, so the transaction ends
    /// and the connection goes back to the pool either way.
    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> AppResult<T>) -> AppResult<T> {
        let conn = self
            .pool()
            .pop()
            .ok_or_else(|| AppError::internal("reader pool empty"))?;
        let result = in_read_transaction(&conn, f);
        // Should the COMMIT or ROLLBACK itself have failed, the connection
        // must not go back with its transaction open: every later BEGIN on
        // it would fail. (It goes back either way: the pool's size is the
        // semaphore's.)
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        self.pool().push(conn);
        result
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.readers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn in_read_transaction<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> AppResult<T>,
) -> AppResult<T> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)))
        .unwrap_or_else(|_| Err(AppError::internal("a database read panicked")));
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    conn.prepare_cached(end)?.execute([])?;
    result
}

impl Db {
    pub fn open(cfg: &StorageConfig, path: &Path) -> anyhow::Result<Self> {
        let writer = open_writer(path, cfg)?;
        let changes = Arc::new(changes::Changes::default());
        changes.watch(&writer);
        let mut readers = Vec::with_capacity(cfg.reader_pool_size);
        for _ in 0..cfg.reader_pool_size {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )?;
            configure(&conn, cfg)?;
            readers.push(conn);
        }
        let writer = Arc::new(Mutex::new(writer));
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                queue: writer::Queue::start(
                    writer.clone(),
                    changes.clone(),
                    Some(checkpointer::Checkpointer::start(
                        path,
                        Duration::from_millis(cfg.busy_timeout_ms),
                    )?),
                )?,
                changes,
                writer,
                reader_permits: Semaphore::new(readers.len()),
                readers: Mutex::new(readers),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a reader connection, on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let permit = self.reader_permit().await?;
        let inner = self.inner.clone();
        let result = tokio::task::spawn_blocking(move || inner.with_reader(f)).await?;
        drop(permit);
        result
    }

    /// Runs `f` on a reader connection right here, on the async worker:
    /// only for reads of a few rows by key (a profile, a paper, a paper's
    /// authors), whose pages take microseconds. It saves the hand-off to a
    /// blocking thread and back, two thread switches that cost a cold
    /// read more than its SQL does (docs/performance.md). Anything that
    /// scans, searches or may read many rows uses `read`, so a worker is
    /// never held while other requests wait on it.
    pub async fn read_short<T>(&self, f: impl FnOnce(&Connection) -> AppResult<T>) -> AppResult<T> {
        let _permit = self.reader_permit().await?;
        self.inner.with_reader(f)
    }

    async fn reader_permit(&self) -> AppResult<tokio::sync::SemaphorePermit<'_>> {
        self.inner
            .reader_permits
            .acquire()
            .await
            .map_err(|_| AppError::internal("reader pool closed"))
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction on the writer, in a
    /// savepoint of its own: its writes commit when it returns `Ok` and are
    /// undone otherwise. Writes queued together share one commit (group
    /// commit, `writer`); the answer comes after that commit.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> AppResult<T> + Send + 'static,
    {
        self.inner.queue.write(f).await
    }

    /// Synchronous variant of `write`, for the command line.
    pub fn write_blocking<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&Transaction<'_>) -> AppResult<T>,
    {
        let mut conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        write_tx(&mut conn, &self.inner.changes, f)
    }

    /// Copies the WAL into the database and truncates it, so no old page
    /// image stays in it (after an erasure). Returns whether it completed:
    /// a reader still on an old snapshot keeps part of the WAL until the
    /// next checkpoint.
    pub async fn checkpoint_truncate(&self) -> AppResult<bool> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            Ok(busy == 0)
        })
        .await?
    }

    /// The generation of one kind of data: it moves after every commit
    /// that changed it (`changes`).
    pub fn generation(&self, data: changes::Data) -> u64 {
        self.inner.changes.generation(data)
    }

    /// Checks that the database answers (for `/readyz`).
    pub async fn ping(&self) -> AppResult<()> {
        self.read(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }
}

fn write_tx<T, F>(conn: &mut Connection, changes: &changes::Changes, f: F) -> AppResult<T>
where
    F: FnOnce(&Transaction<'_>) -> AppResult<T>,
{
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let done = f(&tx).and_then(|value| Ok(tx.commit().map(|()| value)?));
    match done {
        Ok(_) => changes.committed(),
        Err(_) => changes.rolled_back(),
    }
    done
}

/// Copies a live database to `dest` with SQLite's online backup API.
pub fn backup(src: &Path, dest: &Path, progress: impl Fn(i32, i32)) -> anyhow::Result<()> {
    let src = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", src.display()))?;
    let mut dst = Connection::open(dest).with_context(|| format!("creating {}", dest.display()))?;
    let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
    loop {
        let step = backup.step(256)?;
        let p = backup.progress();
        progress(p.pagecount - p.remaining, p.pagecount);
        match step {
            rusqlite::backup::StepResult::Done => break,
            rusqlite::backup::StepResult::More => {}
            _ => std::thread::sleep(Duration::from_millis(25)),
        }
    }
    Ok(())
}

/// Current time as stored in the database.
pub fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Parses a stored time.
pub fn parse_ts(s: &str) -> AppResult<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| AppError::internal(format!("bad stored time `{s}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = StorageConfig {
            reader_pool_size: 1,
            ..StorageConfig::default()
        };
        let path = dir.path().join("t.db");
        let db = Db::open(&cfg, &path).unwrap();
        db.inner
            .writer
            .lock()
            .unwrap()
            .execute_batch("CREATE TABLE t (v INTEGER NOT NULL)")
            .unwrap();
        (dir, db)
    }

    fn count(c: &Connection) -> AppResult<i64> {
        Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?)
    }

    /// A read sees one snapshot: a write committed between two of its
    /// statements is not in the second, and the next read sees it.
    #[tokio::test]
    async fn a_read_sees_one_snapshot() {
        let (_dir, db) = db();
        let writer = db.inner.writer.clone();
        let (before, during) = db
            .read_short(move |c| {
                let before = count(c)?;
                let w = writer.lock().unwrap_or_else(|p| p.into_inner());
                w.execute("INSERT INTO t (v) VALUES (1)", [])?;
                Ok((before, count(c)?))
            })
            .await
            .unwrap();
        assert_eq!((before, during), (0, 0));
        assert_eq!(db.read(count).await.unwrap(), 1);
        assert_eq!(db.read_short(count).await.unwrap(), 1);
    }

    /// A read that fails or panics gives its connection back, with no
    /// transaction left open, so the pool (one connection here) still serves.
    #[tokio::test]
    async fn a_failed_or_panicking_read_keeps_the_pool_whole() {
        let (_dir, db) = db();
        let failed = db
            .read_short(|c| -> AppResult<()> {
                count(c)?;
                Err(AppError::NotFound)
            })
            .await;
        assert!(matches!(failed, Err(AppError::NotFound)));
        let panicked = db
            .read(|c| -> AppResult<()> {
                count(c)?;
                panic!("a bug inside a read")
            })
            .await;
        assert!(panicked.is_err());
        assert_eq!(db.read(count).await.unwrap(), 0);
        assert_eq!(db.read_short(count).await.unwrap(), 0);
        assert_eq!(db.inner.readers.lock().unwrap().len(), 1);
    }
}
