//! How each planned session ends: declined, expired, withdrawn before an
//! answer, or accepted and then held, cancelled (by the reader within the
//! refund window, the researcher or an admin) or missed; and, for about
//! 40 % of those held, the reader's review. Times only: whether each step
//! has happened by now is `story`'s business.

use chrono::Duration;
use rand::Rng;

use super::planned::{between, Planned, CANCEL_WINDOW_HOURS};
pub use super::planned::{After, Fate, Review};
use super::{words, Time};
use crate::services::sessions::Party;

pub fn fate<R: Rng>(rng: &mut R, p: &Planned, priced: bool, grace: Duration) -> Fate {
    if priced && p.paid.is_none() {
        // The researcher never saw it: it runs out, or the reader gives up.
        return if rng.gen_bool(0.3) {
            Fate::Withdrawn(between(rng, p.created, p.expires))
        } else {
            Fate::Expired
        };
    }
    let seen = p.paid.unwrap_or(p.created) + Duration::minutes(5);
    let last = p.expires.min(p.start - Duration::hours(2)) - Duration::minutes(5);
    let answer = seen
        + Duration::seconds(((last - seen).num_seconds() as f64 * rng.gen::<f64>().powi(2)) as i64);
    let roll: f64 = rng.gen();
    if roll < 0.06 {
        return Fate::Declined(answer);
    }
    if roll < 0.10 {
        return Fate::Expired;
    }
    if roll < 0.13 {
        return Fate::Withdrawn(between(rng, seen, answer));
    }
    let before_start = p.start - Duration::hours(1);
    let roll: f64 = rng.gen();
    let after = if roll < 0.07 {
        let latest = p.start - Duration::hours(CANCEL_WINDOW_HOURS);
        if answer < latest {
            After::Cancelled(between(rng, answer, latest), Party::Reader)
        } else {
            After::Cancelled(between(rng, answer, before_start), Party::Researcher)
        }
    } else if roll < 0.10 {
        After::Cancelled(between(rng, answer, before_start), Party::Researcher)
    } else if roll < 0.105 {
        After::Cancelled(between(rng, answer, before_start), Party::Admin)
    } else if roll < 0.13 {
        let at = between(
            rng,
            p.start + Duration::minutes(15),
            p.end() + grace - Duration::minutes(5),
        );
        let absent = if rng.gen_bool(0.6) {
            Party::Reader
        } else {
            Party::Researcher
        };
        After::NoShow(at, absent)
    } else {
        After::Held
    };
    Fate::Accepted(answer, after)
}

/// About 40 % of the sessions that took place are reviewed within a week
/// of their completion, mostly well.
pub fn review<R: Rng>(rng: &mut R, p: &Planned, grace: Duration, now: Time) -> Option<Review> {
    if !matches!(p.fate, Fate::Accepted(_, After::Held)) || !rng.gen_bool(0.4) {
        return None;
    }
    let at = between(rng, p.end() + grace, p.end() + grace + Duration::days(7));
    if at > now {
        return None;
    }
    let rating = match rng.gen_range(0..100) {
        0..=54 => 5,
        55..=82 => 4,
        83..=92 => 3,
        93..=96 => 2,
        _ => 1,
    };
    let comment = rng
        .gen_bool(0.75)
        .then(|| rng.gen_range(0..words::COMMENTS.len()));
    let reply = rng
        .gen_bool(0.1)
        .then(|| {
            let when = between(rng, at, at + Duration::days(5));
            (when <= now).then(|| (rng.gen_range(0..words::REPLIES.len()), when))
        })
        .flatten();
    Some(Review {
        at,
        rating,
        comment,
        reply,
    })
}
