//! Which committed writes changed what the figures read: a generation
//! number per kind of data, raised after every commit that touched it.
//! Cached dashboards and analytics remember the generation they were
//! computed at and are stale once it moves, so no write path has to
//! remember to invalidate them, including ones added later.
//!
//! SQLite's update hook on the writer connection notes the tables each
//! transaction touches; the generation moves only after the commit
//! returned, so a reader that computes while a write is in flight stores
//! its answer under the old generation and it is never served again.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use rusqlite::Connection;

/// Kinds of data, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// Sessions, money, reviews, researchers, accounts: what dashboards
    /// and analytics count.
    Records = 1,
    /// The engagement counters (only the admins' analytics read them).
    Engagement = 2,
    /// What a researcher's public view and a paper's researcher list show:
    /// profiles, their provenance, authorship, booking settings and
    /// availability, reviews (ratings), accounts (owners, disabled).
    Profiles = 4,
}

/// Tables whose changes move `Profiles` (they count as `Records` too).
const PROFILE_TABLES: &[&str] = &[
    "researchers",
    "researcher_field_sources",
    "researcher_merges",
    "paper_researchers",
    "paper_authors",
    "papers",
    "researcher_settings",
    "availability",
    "reviews",
    "users",
];

/// Tables whose rows no figure counts: log-in sessions, mail, the audit
/// trail, single-use links, job bookkeeping. Any other table, including
/// tables added by later migrations, counts as `Records`.
const IGNORED: &[&str] = &[
    "auth_sessions",
    "mail_outbox",
    "audit_log",
    "audit_head",
    "used_tokens",
    "setup_links",
    "email_verifications",
    "webhook_events",
    "idempotency_keys",
    "session_reminders",
    "collection_steps",
    "collection_jobs",
    "provider_status",
    "refinery_schema_history",
];

fn classify(table: &str) -> u8 {
    if table == "analytics_counters" {
        Data::Engagement as u8
    } else if IGNORED.contains(&table) {
        0
    } else if PROFILE_TABLES.contains(&table) {
        Data::Records as u8 | Data::Profiles as u8
    } else {
        Data::Records as u8
    }
}

#[derive(Debug, Default)]
pub struct Changes {
    /// Kinds touched by the transaction in progress.
    pending: AtomicU8,
    records: AtomicU64,
    engagement: AtomicU64,
    profiles: AtomicU64,
}

impl Changes {
    /// Watches the writer connection.
    pub fn watch(self: &Arc<Self>, conn: &Connection) {
        let me = self.clone();
        conn.update_hook(Some(move |_action, _db: &str, table: &str, _rowid| {
            let kind = classify(table);
            if kind != 0 {
                me.pending.fetch_or(kind, Ordering::Relaxed);
            }
        }));
    }

    /// After a commit: raise the generation of what it touched.
    pub fn committed(&self) {
        let touched = self.pending.swap(0, Ordering::AcqRel);
        if touched & Data::Records as u8 != 0 {
            self.records.fetch_add(1, Ordering::AcqRel);
        }
        if touched & Data::Engagement as u8 != 0 {
            self.engagement.fetch_add(1, Ordering::AcqRel);
        }
        if touched & Data::Profiles as u8 != 0 {
            self.profiles.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// After a rollback: nothing changed.
    pub fn rolled_back(&self) {
        self.pending.store(0, Ordering::Release);
    }

    /// The generation of one kind of data.
    pub fn generation(&self, data: Data) -> u64 {
        match data {
            Data::Records => self.records.load(Ordering::Acquire),
            Data::Engagement => self.engagement.load(Ordering::Acquire),
            Data::Profiles => self.profiles.load(Ordering::Acquire),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_raises_only_the_generations_it_touched() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE consulting_sessions (id INTEGER PRIMARY KEY);
             CREATE TABLE analytics_counters (day TEXT PRIMARY KEY);
             CREATE TABLE mail_outbox (id INTEGER PRIMARY KEY);",
        )
        .unwrap();
        let changes = Arc::new(Changes::default());
        changes.watch(&conn);
        conn.execute("INSERT INTO mail_outbox (id) VALUES (1)", [])
            .unwrap();
        changes.committed();
        assert_eq!(changes.generation(Data::Records), 0);
        conn.execute("INSERT INTO consulting_sessions (id) VALUES (1)", [])
            .unwrap();
        changes.committed();
        assert_eq!(changes.generation(Data::Records), 1);
        assert_eq!(changes.generation(Data::Engagement), 0);
        assert_eq!(
            changes.generation(Data::Profiles),
            0,
            "a session is no profile"
        );
        conn.execute("INSERT INTO analytics_counters (day) VALUES ('x')", [])
            .unwrap();
        changes.rolled_back();
        changes.committed();
        assert_eq!(changes.generation(Data::Engagement), 0);
        conn.execute("INSERT INTO analytics_counters (day) VALUES ('y')", [])
            .unwrap();
        changes.committed();
        assert_eq!(changes.generation(Data::Engagement), 1);
    }
}
