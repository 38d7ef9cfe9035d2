//! When the generated sessions happen, planned from the RNG alone (how
//! each one ends is `fates`). Every bookable researcher publishes one of three weekly
//! templates; a session takes one of the template's four slots (90 minutes
//! apart, sessions of 30 or 60 minutes), so no two sessions of a
//! researcher ever overlap or break the 15-minute buffer, whatever their
//! status. Sessions are booked one to thirty days ahead, more of them as
//! the service grows, fewer in August and over the new year.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use rand::seq::SliceRandom;
use rand::Rng;

use super::fates;
use super::people::{growth, People, PLACES};
use super::planned::Fate;
pub use super::planned::{between, Planned};
use super::{words, ScaleSpec, Time};
use crate::config::Config;
use crate::domain::zone::Tz;
use crate::error::{AppError, AppResult};

/// Bookings reach this far past now.
pub const FUTURE_DAYS: i64 = 30;

/// The booking settings every generated researcher saves; the calendar
/// below keeps to them.
pub const DURATIONS: [i64; 2] = [30, 60];
pub const MIN_NOTICE_HOURS: i64 = 24;
pub const BUFFER_MINUTES: i64 = 15;
pub const MAX_PER_DAY: i64 = 4;
pub const HORIZON_DAYS: i64 = 60;
pub const REQUEST_TTL_HOURS: i64 = 48;
pub use super::planned::CANCEL_WINDOW_HOURS;

/// A weekly availability: the days (Monday = 0), one rule per day, and
/// the four slot starts inside it (minutes after midnight).
pub struct Template {
    pub days: &'static [u32],
    pub from: &'static str,
    pub to: &'static str,
    slots: [u32; 4],
}

pub const TEMPLATES: [Template; 3] = [
    Template {
        days: &[0, 1, 2, 3, 4],
        from: "09:00",
        to: "17:00",
        slots: [540, 630, 780, 870],
    },
    Template {
        days: &[0, 2, 4],
        from: "10:00",
        to: "16:00",
        slots: [600, 690, 780, 870],
    },
    Template {
        days: &[1, 3],
        from: "13:00",
        to: "19:00",
        slots: [780, 870, 960, 1050],
    },
];

pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// What every draw needs to know.
struct Board<'a> {
    people: &'a People,
    bookable: Vec<usize>,
    cumulative: Vec<f64>,
    joined: Vec<Time>,
    zones: Vec<Tz>,
    first_day: NaiveDate,
    days: i64,
    end: Time,
    now: Time,
    grace: Duration,
    taken: HashSet<(usize, NaiveDate, usize)>,
}

pub fn plan<R: Rng>(
    spec: &ScaleSpec,
    people: &People,
    config: &Config,
    now: Time,
    rng: &mut R,
) -> AppResult<Vec<Planned>> {
    let bookable: Vec<usize> = (0..people.researchers.len())
        .filter(|i| people.researchers[*i].registered.is_some())
        .collect();
    let mut total = 0.0;
    let cumulative = bookable
        .iter()
        .map(|i| {
            total += people.researchers[*i].weight;
            total
        })
        .collect();
    let end = now + Duration::days(FUTURE_DAYS);
    let mut board = Board {
        people,
        bookable,
        cumulative,
        joined: people.readers.iter().map(|r| r.joined).collect(),
        zones: PLACES
            .iter()
            .map(|p| p.zone.parse().unwrap_or(Tz::UTC))
            .collect(),
        first_day: people.start.date_naive(),
        days: (end - people.start).num_days(),
        end,
        now,
        grace: Duration::hours(config.sessions.completion_grace_hours),
        taken: HashSet::with_capacity(spec.sessions),
    };
    let mut out = Vec::with_capacity(spec.sessions);
    let limit = spec.sessions * 100 + 10_000;
    let mut attempts = 0;
    while out.len() < spec.sessions {
        attempts += 1;
        if attempts > limit {
            return Err(AppError::internal(format!(
                "placed only {} of {} sessions; the calendar is too full",
                out.len(),
                spec.sessions
            )));
        }
        if let Some(p) = draw(&mut board, rng) {
            out.push(p);
        }
    }
    out.sort_by_key(|p| (p.created, p.start));
    Ok(out)
}

/// Fewer sessions in August and over the new year.
fn season_keeps<R: Rng>(rng: &mut R, day: NaiveDate) -> bool {
    let keep = match (day.month(), day.day()) {
        (8, _) => 0.6,
        (12, d) if d >= 20 => 0.5,
        (1, d) if d <= 6 => 0.5,
        _ => 1.0,
    };
    rng.gen_bool(keep)
}

/// One attempt at a session; `None` when the draw does not fit.
fn draw<R: Rng>(b: &mut Board<'_>, rng: &mut R) -> Option<Planned> {
    let day = b.first_day + Duration::days((growth(rng) * b.days as f64) as i64);
    if !season_keeps(rng, day) {
        return None;
    }
    let pick = rng.gen::<f64>() * b.cumulative.last().copied().unwrap_or(0.0);
    let slot_of = b.cumulative.partition_point(|c| *c < pick);
    let r = *b
        .bookable
        .get(slot_of.min(b.bookable.len().saturating_sub(1)))?;
    let who = &b.people.researchers[r];
    let template = &TEMPLATES[who.template];
    let day = (0..7)
        .map(|k| day + Duration::days(k))
        .find(|d| template.days.contains(&d.weekday().num_days_from_monday()))?;
    let slot = rng.gen_range(0..template.slots.len());
    let local = day.and_hms_opt(template.slots[slot] / 60, template.slots[slot] % 60, 0)?;
    let start = b.zones[who.place]
        .from_local_datetime(&local)
        .single()?
        .with_timezone(&Utc);
    let minutes = DURATIONS[usize::from(rng.gen_bool(0.6))];
    let lead_hours = 25.0 + 700.0 * rng.gen::<f64>().powf(2.5);
    let created = start - Duration::seconds((lead_hours * 3600.0) as i64);
    let bookable_from = who.registered? + Duration::hours(1);
    if start < b.people.start || start > b.end || created > b.now || created < bookable_from {
        return None;
    }
    if b.taken.contains(&(r, day, slot)) {
        return None;
    }
    let reader = reader_at(b, rng, created - Duration::hours(1))?;
    b.taken.insert((r, day, slot));
    let priced = who.price_minor > 0;
    let expires = (created + Duration::hours(REQUEST_TTL_HOURS)).min(start);
    let paid = (priced && rng.gen_bool(0.95))
        .then(|| created + Duration::seconds(rng.gen_range(60..2_400)));
    let mut p = Planned {
        researcher: r,
        reader,
        paper: rng
            .gen_bool(0.75)
            .then(|| b.people.papers_of[r].choose(rng).copied())
            .flatten(),
        topic: rng.gen_range(0..words::TOPICS.len()),
        start,
        minutes,
        created,
        expires,
        paid,
        fate: Fate::Expired,
        review: None,
        noise: 0,
    };
    p.fate = fates::fate(rng, &p, priced, b.grace);
    p.review = fates::review(rng, &p, b.grace, b.now);
    p.noise = rng.gen();
    Some(p)
}

/// A verified reader who had joined by `at`, the longer-standing ones
/// more often.
fn reader_at<R: Rng>(b: &Board<'_>, rng: &mut R, at: Time) -> Option<usize> {
    let joined = b.joined.partition_point(|t| *t <= at);
    if joined == 0 {
        return None;
    }
    let first = ((joined as f64 * rng.gen::<f64>().powf(1.3)) as usize).min(joined - 1);
    let readers = &b.people.readers;
    (0..=first)
        .rev()
        .chain(first + 1..joined)
        .find(|i| readers[*i].verified)
}
