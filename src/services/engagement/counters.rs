//! The in-memory side: counts gathered between flushes, and who was
//! already counted active today. A std `Mutex` held for a map update, so
//! recording costs no database write and no await.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use chrono::NaiveDate;

use crate::domain::{CounterKind, UserId};

/// A counter's key: the institution-zone day, the kind, the subject (the
/// paper of a view, 0 otherwise).
pub(super) type Key = (NaiveDate, CounterKind, i64);

/// What has not reached the database yet.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Pending {
    pub counts: HashMap<Key, u64>,
    /// Accounts seen active, by day; ordered so that a flush marks an
    /// account's earlier day before its later one.
    pub active: BTreeSet<(NaiveDate, UserId)>,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.active.is_empty()
    }

    /// Adds `other` in (a failed flush's batch going back).
    pub fn merge(&mut self, other: Pending) {
        for (key, n) in other.counts {
            *self.counts.entry(key).or_default() += n;
        }
        self.active.extend(other.active);
    }
}

#[derive(Default)]
struct Inner {
    pending: Pending,
    /// The day `seen` is about; a new day starts an empty set.
    seen_day: Option<NaiveDate>,
    /// Accounts already queued as active on `seen_day`.
    seen: HashSet<UserId>,
}

/// Engagement counts gathered in memory; `engagement::flush` writes them.
/// Held in `AppState`.
pub struct Counters {
    zone: crate::domain::zone::Tz,
    inner: Mutex<Inner>,
    /// One flush at a time, so an account's days reach the database in
    /// order and a failed batch goes back before the next one is taken.
    pub(super) flushing: tokio::sync::Mutex<()>,
}

impl Counters {
    /// Counters whose days are dates in `zone` (`[institution] timezone`).
    pub fn new(zone: crate::domain::zone::Tz) -> Self {
        Self {
            zone,
            inner: Mutex::new(Inner::default()),
            flushing: tokio::sync::Mutex::new(()),
        }
    }

    pub(super) fn zone(&self) -> crate::domain::zone::Tz {
        self.zone
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn add(&self, key: Key) {
        *self.lock().pending.counts.entry(key).or_default() += 1;
    }

    /// Queues `user` as active on `day` unless already queued that day.
    pub(super) fn active(&self, day: NaiveDate, user: UserId) {
        let mut inner = self.lock();
        if inner.seen_day != Some(day) {
            inner.seen_day = Some(day);
            inner.seen.clear();
        }
        if inner.seen.insert(user) {
            inner.pending.active.insert((day, user));
        }
    }

    /// Takes everything pending, leaving nothing.
    pub(super) fn take(&self) -> Pending {
        std::mem::take(&mut self.lock().pending)
    }

    /// Puts a batch back (its write failed), added to what came since.
    pub(super) fn restore(&self, batch: Pending) {
        self.lock().pending.merge(batch);
    }

    /// Whether anything waits for a flush.
    pub fn is_idle(&self) -> bool {
        self.lock().pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_restored_batch_adds_to_what_came_since() {
        let c = Counters::new(crate::domain::zone::DEFAULT);
        let d = day("2026-03-07");
        c.add((d, CounterKind::Search, 0));
        c.add((d, CounterKind::Search, 0));
        c.active(d, UserId(1));
        let batch = c.take();
        assert!(c.is_idle());
        c.add((d, CounterKind::Search, 0));
        c.add((d, CounterKind::PaperView, 7));
        c.restore(batch);
        let all = c.take();
        assert_eq!(all.counts[&(d, CounterKind::Search, 0)], 3);
        assert_eq!(all.counts[&(d, CounterKind::PaperView, 7)], 1);
        assert_eq!(all.active, BTreeSet::from([(d, UserId(1))]));
    }

    #[test]
    fn an_account_is_queued_once_a_day() {
        let c = Counters::new(crate::domain::zone::DEFAULT);
        let (d1, d2) = (day("2026-03-07"), day("2026-03-08"));
        for _ in 0..5 {
            c.active(d1, UserId(1));
        }
        c.active(d1, UserId(2));
        c.active(d2, UserId(1));
        c.active(d2, UserId(1));
        let queued: Vec<_> = c.take().active.into_iter().collect();
        assert_eq!(queued, [(d1, UserId(1)), (d1, UserId(2)), (d2, UserId(1))]);
        // Already seen today: nothing new even after the flush took it.
        c.active(d2, UserId(1));
        assert!(c.is_idle());
    }
}
