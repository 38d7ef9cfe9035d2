//! Group commit: one thread owns the writes. It takes the first waiting
//! write, then every write that queued behind it (up to `MAX_BATCH`), runs
//! each in its own savepoint inside one `BEGIN IMMEDIATE` transaction, and
//! commits once. A write that fails rolls back to its savepoint and only
//! its caller sees the error; the others commit. Callers get their answers
//! only after the commit returned, so an acknowledged write is durable as
//! before.
//!
//! Why: under load the writes queued on a mutex, each paying a thread
//! hand-off and a commit of its own, served in no particular order (so the
//! slowest caller waited several times the average). The queue here is
//! first come, first served, and one commit carries many writes.
//!
//! A write alone in its batch runs without a savepoint, and a failure
//! rolls its transaction back whole. Inside a savepoint every statement's
//! end trims SQLite's in-memory sub-journal by walking it from its start,
//! so one large write (`demo --scale`, a retention run) slowed down with
//! the square of its size: `demo --scale 100` took hours instead of
//! minutes.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::changes::Changes;
use super::checkpointer::Checkpointer;
use crate::error::{AppError, AppResult};

/// At most this many writes share one commit, so one batch cannot hold the
/// queue for long (128 bookings take about 20 ms here). Larger batches
/// write each index page once for more writes: at 256 booking clients 128
/// gave 7,123–7,768 requests/s against 6,228–6,480 for 64
/// (docs/performance.md).
const MAX_BATCH: usize = 128;

/// Tells a caller how its write ended once the batch's commit is known.
type Finish = Box<dyn FnOnce(Option<&rusqlite::Error>) + Send>;
/// How a write ran: its caller's answer, and whether it failed with no
/// savepoint to undo it, so its transaction must be rolled back whole.
type Ran = (Finish, bool);
/// A queued write: runs inside the batch's transaction, in a savepoint
/// unless it is `alone` in the batch, or is told why the transaction is
/// not there.
type Job = Box<dyn FnOnce(Result<&Transaction<'_>, &rusqlite::Error>, bool) -> Ran + Send>;

/// The sending side; the thread ends when it is dropped.
pub(super) struct Queue {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Queue {
    /// Starts the writer thread on `conn`; after each commit it pokes
    /// `checkpointer`, if there is one.
    pub(super) fn start(
        conn: Arc<Mutex<Connection>>,
        changes: Arc<Changes>,
        checkpointer: Option<Checkpointer>,
    ) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(&conn, &changes, checkpointer.as_ref(), rx))?;
        Ok(Self { jobs })
    }

    /// Queues `f` and waits for the commit that carries it.
    pub(super) async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> AppResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<AppResult<T>>();
        let job: Job = Box::new(
            move |db: Result<&Transaction<'_>, &rusqlite::Error>, alone| run_one(db, alone, f, tx),
        );
        self.jobs
            .send(job)
            .map_err(|_| AppError::internal("the database writer has stopped"))?;
        rx.await
            .map_err(|_| AppError::internal("the database writer dropped a write"))?
    }
}

/// Runs one write, in a savepoint unless it is `alone` in its batch, and
/// returns how to answer its caller.
fn run_one<T, F>(
    db: Result<&Transaction<'_>, &rusqlite::Error>,
    alone: bool,
    f: F,
    reply: oneshot::Sender<AppResult<T>>,
) -> Ran
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> AppResult<T>,
{
    let started = match db {
        Ok(db) if alone => Ok(db),
        Ok(db) => run_cached(db, "SAVEPOINT write").map(|()| db),
        Err(e) => Err(clone_error(e)),
    };
    let db = match started {
        Ok(db) => db,
        Err(e) => {
            let e = copy_error(&e);
            let finish: Finish = Box::new(move |_| {
                let _ = reply.send(Err(e));
            });
            return (finish, false);
        }
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| f(db)))
        .unwrap_or_else(|_| Err(AppError::internal("a database write panicked")));
    let undo_all = alone && outcome.is_err();
    let outcome = match outcome {
        // No savepoint to release or undo: the transaction is its own.
        outcome if alone => outcome,
        Ok(value) => run_cached(db, "RELEASE write")
            .map(|()| value)
            .map_err(AppError::from),
        Err(e) => match run_cached(db, "ROLLBACK TO write")
            .and_then(|()| run_cached(db, "RELEASE write"))
        {
            Ok(()) => Err(e),
            Err(undo) => {
                // The savepoint could not be undone: the whole batch must
                // not commit. Leaving it open makes the commit fail.
                tracing::error!(error = %undo, "rolling back a failed write");
                Err(e)
            }
        },
    };
    let finish: Finish = Box::new(move |commit: Option<&rusqlite::Error>| {
        let answer = match (outcome, commit) {
            (Ok(_), Some(e)) => Err(copy_error(e)),
            (outcome, _) => outcome,
        };
        let _ = reply.send(answer);
    });
    (finish, undo_all)
}

/// Runs a savepoint statement, parsed once per connection rather than
/// once per write.
fn run_cached(db: &Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    db.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// The commit's error, once for each caller of the batch. A write that
/// was rolled back for another write's failure may simply be sent again.
fn copy_error(e: &rusqlite::Error) -> AppError {
    if is_rolled_back(e) {
        return AppError::Busy;
    }
    AppError::from(clone_error(e))
}

const ROLLED_BACK: &str = "an earlier write in the same commit failed and rolled it back";

fn is_rolled_back(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, Some(m))
        if f.code == rusqlite::ErrorCode::OperationAborted && m == ROLLED_BACK)
}

fn clone_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

fn rolled_back() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
        Some(ROLLED_BACK.into()),
    )
}

fn run(
    conn: &Mutex<Connection>,
    changes: &Changes,
    checkpointer: Option<&Checkpointer>,
    mut rx: mpsc::UnboundedReceiver<Job>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut finishes: Vec<Finish> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let alone = batch.len() == 1;
                for job in batch.drain(..) {
                    job(Err(&e), alone).0(None);
                }
                continue;
            }
        };
        let alone = batch.len() == 1;
        let mut undo_all = false;
        for job in batch.drain(..) {
            // Some failures (a full disk, an I/O error) make SQLite roll
            // the whole transaction back; the writes after it must not
            // run outside one, and the ones before it are lost too.
            let (finish, undo) = if tx.is_autocommit() {
                job(Err(&rolled_back()), alone)
            } else {
                job(Ok(&tx), alone)
            };
            finishes.push(finish);
            undo_all |= undo;
        }
        // SQLite rolled the transaction back itself (a full disk, an I/O
        // error), or the batch's only write failed: nothing of the batch
        // is stored, so nobody is told so.
        let commit = if tx.is_autocommit() {
            drop(tx);
            Err(rolled_back())
        } else if undo_all {
            tx.rollback().and(Err(rolled_back()))
        } else {
            tx.commit()
        };
        drop(conn);
        match &commit {
            Ok(()) => {
                changes.committed();
                if let Some(c) = checkpointer {
                    c.poke();
                }
            }
            Err(_) => changes.rolled_back(),
        }
        let error = commit.err();
        for finish in finishes.drain(..) {
            finish(error.as_ref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> (Queue, Arc<Mutex<Connection>>) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)")
            .unwrap();
        let conn = Arc::new(Mutex::new(conn));
        (
            Queue::start(conn.clone(), Arc::new(Changes::default()), None).unwrap(),
            conn,
        )
    }

    fn rows(conn: &Mutex<Connection>) -> Vec<String> {
        let conn = conn.lock().unwrap();
        let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        let out = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        out
    }

    /// Many writes at once share commits; the one that fails, the one
    /// that panics and the one that breaks a constraint leave nothing
    /// behind and get their own error; every other write is there.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_undoes_only_itself() {
        let (queue, conn) = queue();
        let queue = Arc::new(queue);
        let mut tasks = Vec::new();
        for i in 0..300 {
            let queue = queue.clone();
            tasks.push(tokio::spawn(async move {
                queue
                    .write(move |tx| {
                        tx.execute("INSERT INTO t (v) VALUES (?1)", [format!("row {i:03}")])?;
                        match i {
                            100 => Err(AppError::internal("refused after writing")),
                            150 => panic!("a bug inside a write"),
                            // Its own value again: a unique violation that
                            // does not depend on which write ran first.
                            200 => Ok(tx.execute("INSERT INTO t (v) VALUES ('row 200')", [])?),
                            _ => Ok(1),
                        }
                    })
                    .await
            }));
        }
        let mut failed = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            if task.await.unwrap().is_err() {
                failed.push(i);
            }
        }
        assert_eq!(failed, [100, 150, 200]);
        let rows = rows(&conn);
        assert_eq!(rows.len(), 297);
        for gone in ["row 100", "row 150", "row 200"] {
            assert!(!rows.iter().any(|r| r == gone), "{gone} was kept");
        }
    }

    /// The answer comes after the commit: what a write returned is
    /// readable from another connection's point of view at once.
    #[tokio::test]
    async fn an_answered_write_is_committed() {
        let (queue, conn) = queue();
        queue
            .write(|tx| Ok(tx.execute("INSERT INTO t (v) VALUES ('x')", [])?))
            .await
            .unwrap();
        assert!(
            conn.lock().unwrap().is_autocommit(),
            "no transaction left open"
        );
        assert_eq!(rows(&conn), ["x"]);
    }

    /// A write alone in its batch has no savepoint: when it fails (or
    /// panics) after changing rows, its whole transaction is rolled back,
    /// and the writer goes on with the next.
    #[tokio::test]
    async fn a_write_alone_that_fails_leaves_nothing_behind() {
        let (queue, conn) = queue();
        let failed = queue
            .write(|tx| {
                tx.execute("INSERT INTO t (v) VALUES ('half')", [])?;
                Err::<(), _>(AppError::conflict("test", "refused after a change"))
            })
            .await;
        assert!(
            matches!(failed, Err(AppError::Conflict { code: "test", .. })),
            "{failed:?}"
        );
        let panicked = queue
            .write(|tx| -> AppResult<()> {
                tx.execute("INSERT INTO t (v) VALUES ('torn')", [])?;
                panic!("a bug in a write")
            })
            .await;
        assert!(panicked.is_err());
        let bulk = queue
            .write(|tx| {
                for i in 0..20_000 {
                    tx.prepare_cached("INSERT INTO t (v) VALUES (?1)")?
                        .execute([format!("row {i:05}")])?;
                }
                Ok(())
            })
            .await;
        assert!(bulk.is_ok(), "{bulk:?}");
        let rows = rows(&conn);
        assert_eq!(rows.len(), 20_000);
        assert!(
            !rows.iter().any(|r| r == "half" || r == "torn"),
            "a failed write was kept"
        );
        assert!(
            conn.lock().unwrap().is_autocommit(),
            "no transaction left open"
        );
    }

    fn set_max_pages(conn: &Mutex<Connection>, pages: Option<i64>) {
        let conn = conn.lock().unwrap();
        let pages = match pages {
            Some(p) => p,
            None => conn
                .query_row("PRAGMA page_count", [], |r| r.get(0))
                .unwrap(),
        };
        let _: i64 = conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                r.get(0)
            })
            .unwrap();
    }

    /// A database that cannot grow refuses the write whole (503
    /// `storage_full`), keeps what it had, and takes writes again once
    /// there is room.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_database_refuses_writes_whole_and_recovers() {
        let (queue, conn) = queue();
        queue
            .write(|tx| Ok(tx.execute("INSERT INTO t (v) VALUES ('kept')", [])?))
            .await
            .unwrap();
        set_max_pages(&conn, None);
        let queue = Arc::new(queue);
        let mut tasks = Vec::new();
        for i in 0..20 {
            let queue = queue.clone();
            tasks.push(tokio::spawn(async move {
                queue
                    .write(move |tx| {
                        let big = format!("{i:02}{}", "x".repeat(50_000));
                        Ok(tx.execute("INSERT INTO t (v) VALUES (?1)", [big])?)
                    })
                    .await
            }));
        }
        for task in tasks {
            let e = task.await.unwrap().unwrap_err();
            assert!(matches!(e, AppError::StorageFull | AppError::Busy), "{e:?}");
            assert_eq!(e.status_code(), 503);
        }
        assert_eq!(rows(&conn), ["kept"]);
        set_max_pages(&conn, Some(1_000_000));
        queue
            .write(|tx| Ok(tx.execute("INSERT INTO t (v) VALUES ('later')", [])?))
            .await
            .unwrap();
        assert_eq!(rows(&conn), ["kept", "later"]);
    }
}
