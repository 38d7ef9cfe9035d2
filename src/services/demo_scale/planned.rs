//! What a generated session is planned to be (`Planned`) and how it ends
//! (`Fate`, `After`, `Review`): the types `calendar` and `fates` share,
//! so neither imports the other.

use chrono::Duration;
use rand::Rng;

use super::Time;
use crate::services::sessions::Party;

/// Readers may cancel for a full refund up to this many hours before.
pub const CANCEL_WINDOW_HOURS: i64 = 24;

/// How a session's story goes on after the request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    Declined(Time),
    Expired,
    /// The reader cancelled before an answer.
    Withdrawn(Time),
    Accepted(Time, After),
}

#[derive(Debug, Clone, PartialEq)]
pub enum After {
    /// It takes place and is completed.
    Held,
    Cancelled(Time, Party),
    /// An admin records who did not come.
    NoShow(Time, Party),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub at: Time,
    pub rating: u8,
    /// Index into `words::COMMENTS`.
    pub comment: Option<usize>,
    /// The researcher's answer (index into `words::REPLIES`) and when.
    pub reply: Option<(usize, Time)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub researcher: usize,
    pub reader: usize,
    pub paper: Option<usize>,
    pub topic: usize,
    pub start: Time,
    pub minutes: i64,
    pub created: Time,
    pub expires: Time,
    /// When the reader's card was held (priced sessions that were paid).
    pub paid: Option<Time>,
    pub fate: Fate,
    pub review: Option<Review>,
    /// Picks the meeting room and the cancellation reason.
    pub noise: u64,
}

impl Planned {
    pub fn end(&self) -> Time {
        self.start + Duration::minutes(self.minutes)
    }
}

/// A random instant in `[a, b]` (`a` when the span is empty).
pub fn between<R: Rng>(rng: &mut R, a: Time, b: Time) -> Time {
    let secs = (b - a).num_seconds();
    if secs <= 0 {
        a
    } else {
        a + Duration::seconds(rng.gen_range(0..=secs))
    }
}
