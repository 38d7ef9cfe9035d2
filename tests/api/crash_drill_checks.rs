//! The crash drill's checks after a restart (`tests/api/crash_drill.rs`):
//! nothing acknowledged lost, no double booking, an intact file and audit
//! chain, and every queued e-mail delivered under its one `Message-ID`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use colloquy::config::Config;

use crate::crash_drill::Acked;
use crate::crash_drill_server::colloquy;
use crate::smtp_sink::SmtpSink;

pub(crate) fn open_db(config: &Path) -> rusqlite::Connection {
    let config = Config::load(Some(config)).unwrap();
    // Read-write: FTS5's part of `integrity_check` needs it. Only reads.
    let db = rusqlite::Connection::open(config.database_path()).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db
}

pub(crate) fn count(db: &rusqlite::Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The one value `sql` finds for `param`.
pub(crate) fn value<T: rusqlite::types::FromSql>(
    db: &rusqlite::Connection,
    sql: &str,
    param: &dyn rusqlite::ToSql,
) -> T {
    db.query_row(sql, [param], |r| r.get(0)).unwrap()
}

/// The checks after a restart (the server up again, so it recovered the
/// file); panics with the round's seed on a failure.
pub(crate) fn check(config: &Path, acked: &Acked, seed: u64, round: usize) {
    let db = open_db(config);
    let context = format!("round {round}, seed {seed}");
    let ids: Vec<String> = acked.bookings.iter().map(i64::to_string).collect();
    let found = count(
        &db,
        &format!(
            "SELECT COUNT(*) FROM consulting_sessions WHERE id IN ({})",
            ids.join(",")
        ),
    );
    assert_eq!(
        found,
        ids.len() as i64,
        "acknowledged bookings lost ({context})"
    );
    for (event, session) in &acked.webhooks {
        let stored: i64 = value(
            &db,
            "SELECT COUNT(*) FROM webhook_events WHERE id = ?1",
            event,
        );
        assert_eq!(stored, 1, "acknowledged webhook {event} lost ({context})");
        let status: String = value(
            &db,
            "SELECT status FROM session_payments WHERE session_id = ?1",
            session,
        );
        assert_eq!(
            status, "authorized",
            "webhook {event} without its effect ({context})"
        );
    }
    let overlaps = count(
        &db,
        "SELECT COUNT(*) FROM consulting_sessions a
           JOIN consulting_sessions b
             ON b.researcher_id = a.researcher_id AND b.id > a.id
            AND b.start_at < a.end_at AND a.start_at < b.end_at
          WHERE a.status IN ('requested', 'accepted')
            AND b.status IN ('requested', 'accepted')",
    );
    assert_eq!(overlaps, 0, "double bookings ({context})");
    // Under the write lock: FTS5's part of the check writes, and a read
    // transaction cannot upgrade while the server writes.
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    db.execute_batch("ROLLBACK").unwrap();
    assert_eq!(integrity, "ok", "{context}");
    let out = colloquy(config).args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "audit verify ({context}): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A message's `Message-ID` header value.
pub(crate) fn message_id(message: &str) -> Option<&str> {
    let line = message
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))?;
    Some(line.split_once(':')?.1.trim())
}

/// The outbox row id in a `Message-ID` made by the sender
/// (`<tag.ID@domain>`).
pub(crate) fn outbox_id(message_id: &str) -> Option<i64> {
    let local = message_id.strip_prefix('<')?.split_once('@')?.0;
    local.rsplit_once('.')?.1.parse().ok()
}

/// Waits until nothing is queued, then checks that each outbox row was
/// received at least once, and only ever under its own `Message-ID`.
pub(crate) async fn check_mail(config: &Path, sink: &SmtpSink, seed: u64) -> (usize, usize) {
    let db = open_db(config);
    // The outbox sends about 25 a second to the sink: wait while it makes
    // progress, and fail only if it stops (30 s without a message sent).
    let sent_now = || {
        count(
            &db,
            "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'",
        )
    };
    let (mut last, mut moved) = (sent_now(), Instant::now());
    while count(
        &db,
        "SELECT COUNT(*) FROM mail_outbox WHERE status = 'queued'",
    ) > 0
    {
        let now_sent = sent_now();
        if now_sent != last {
            (last, moved) = (now_sent, Instant::now());
        }
        assert!(
            moved.elapsed() < Duration::from_secs(30),
            "mail stopped with messages queued (seed {seed}): {} sent, {} queued, {} received",
            now_sent,
            count(
                &db,
                "SELECT COUNT(*) FROM mail_outbox WHERE status = 'queued'"
            ),
            sink.received().len(),
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let failed = count(
        &db,
        "SELECT COUNT(*) FROM mail_outbox WHERE status <> 'sent'",
    );
    assert_eq!(failed, 0, "mail not delivered (seed {seed})");
    let mut sent: Vec<i64> = Vec::new();
    let mut stmt = db.prepare("SELECT id FROM mail_outbox").unwrap();
    for id in stmt.query_map([], |r| r.get(0)).unwrap() {
        sent.push(id.unwrap());
    }
    let mut received: BTreeMap<i64, usize> = BTreeMap::new();
    let mut ids_of: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for m in sink.received() {
        let header = message_id(&m.data).expect("every message has a Message-ID");
        let id = outbox_id(header).expect("the Message-ID is the sender's");
        *received.entry(id).or_default() += 1;
        ids_of.entry(id).or_default().insert(header.to_string());
    }
    for id in &sent {
        assert!(
            received.contains_key(id),
            "mail {id} never arrived (seed {seed})"
        );
    }
    assert_eq!(
        received.len(),
        sent.len(),
        "mail from nowhere (seed {seed})"
    );
    assert!(
        ids_of.values().all(|headers| headers.len() == 1),
        "a message arrived twice under two Message-IDs (seed {seed})"
    );
    let duplicates = received.values().map(|n| n - 1).sum();
    (sent.len(), duplicates)
}
