//! Availability: the free slots of one busy researcher over eight weeks.
//!
//! One researcher in Europe/Berlin (durations 30 and 60, no notice, a
//! 15-minute buffer, at most 12 a day, 90-day horizon), open Mon–Fri
//! 08:00–18:00 with a few exceptions (a day off, two partial blocks, an
//! evening, and extra time on every Saturday), and 500 live sessions spread
//! over the next eight weeks inside the open times, non-overlapping and
//! buffered, at most 11 a day (below the cap, so every day is computed).
//!
//! Times the full service call `settings::slots` (reader pool, database
//! read and computation) for 60-minute slots over 56 days, and for
//! reference `slots_in` on a connection held by the bench and the pure
//! `free_slots` alone. Target: `settings::slots` p99 < 5 ms.
//!
//! Run: `cargo bench --bench availability` (optionally ITERATIONS=2000).

use std::error::Error;
use std::hint::black_box;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Duration as Span, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use colloquy::clock::SystemClock;
use colloquy::config::Config;
use colloquy::db::repos::consulting_sessions::{self, NewSession};
use colloquy::db::repos::researchers;
use colloquy::domain::availability::{self, local_instant, Exception, Rule};
use colloquy::domain::{ResearcherId, Role, SessionId};
use colloquy::services::accounts::{self, Principal};
use colloquy::services::sessions::settings::{self, AvailabilityBody, SettingsBody};
use colloquy::state::AppState;

#[path = "common.rs"]
mod common;
use common::*;

const PASSWORD: &str = "benchmark passphrase 2026";
const TIMEZONE: Tz = chrono_tz::Europe::Berlin;
const SESSIONS: usize = 500;
const DAYS: i64 = 56;
const BUFFER: i64 = 15;
const MAX_PER_DAY: i64 = 12;
const QUERY_DURATION: i64 = 60;
const TARGET_P99: Duration = Duration::from_millis(5);

/// Prints one timing line; returns the p99.
fn report(label: &str, mut lat: Vec<Duration>, slots: usize) -> Duration {
    lat.sort();
    let p99 = percentile(&lat, 0.99);
    println!(
        "{label:<44} n={n} p50 {p50:.3} ms | p90 {p90:.3} ms | p99 {p99:.3} ms | max {max:.3} ms | {slots} slots",
        n = lat.len(),
        p50 = ms(percentile(&lat, 0.5)),
        p90 = ms(percentile(&lat, 0.9)),
        p99 = ms(p99),
        max = ms(lat.last().copied().unwrap_or_default()),
    );
    p99
}

fn hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The next date on or after `d` that is a weekday (Mon–Fri).
fn weekday_from(mut d: NaiveDate) -> NaiveDate {
    while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d = d.succ_opt().unwrap_or(d);
    }
    d
}

/// An exception as the bench reasons about it: date, extra (or block), and
/// the window in minutes (`None`: the whole day).
type Ex = (NaiveDate, bool, Option<(i64, i64)>);

/// The open windows of one local date under Mon–Fri 08:00–18:00 and the
/// exceptions (the semantics of `domain::availability`, restated).
fn windows_on(date: NaiveDate, exceptions: &[Ex]) -> Vec<(i64, i64)> {
    let mut open = Vec::new();
    if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        open.push((8 * 60, 18 * 60));
    }
    let mut blocks = Vec::new();
    for (d, extra, w) in exceptions {
        if *d != date {
            continue;
        }
        match (extra, w) {
            (true, Some(w)) => open.push(*w),
            (false, None) => return Vec::new(),
            (false, Some(w)) => blocks.push(*w),
            (true, None) => {}
        }
    }
    open.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for w in open {
        match merged.last_mut() {
            Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
            _ => merged.push(w),
        }
    }
    for b in blocks {
        merged = merged
            .into_iter()
            .flat_map(|w| [(w.0, w.1.min(b.0)), (w.0.max(b.1), w.1)])
            .filter(|w| w.1 > w.0)
            .collect();
    }
    merged
}

/// Session starts (local minutes) and lengths packed into a day's windows:
/// 30-minute sessions with every fourth one 60 minutes, a buffer apart,
/// at most `MAX_PER_DAY - 1`.
fn positions(windows: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for &(start, end) in windows {
        let mut t = start;
        loop {
            let len = if out.len() % 4 == 3 { 60 } else { 30 };
            if t + len > end || out.len() as i64 >= MAX_PER_DAY - 1 {
                break;
            }
            out.push((t, len));
            t += len + BUFFER;
        }
    }
    out
}

async fn run(iterations: usize) -> Result<bool, Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    config.logging.level = "warn".into();
    let state = AppState::build(config, Arc::new(SystemClock))?;

    // A researcher with an account, and a reader to own the sessions.
    let owner = accounts::create_user_admin_cli(
        &state,
        "researcher@uni.example",
        "Bench Researcher",
        PASSWORD,
        Role::User,
    )
    .await?;
    let reader = accounts::create_user_admin_cli(
        &state,
        "reader@uni.example",
        "Bench Reader",
        PASSWORD,
        Role::User,
    )
    .await?;
    let now = state.now();
    let owner_id = owner.id;
    let id: ResearcherId = state
        .db
        .write(move |tx| {
            let id =
                researchers::insert(tx, "Bench Researcher", Some("Bench University"), None, now)?;
            researchers::claim(tx, id, owner_id, now)?;
            Ok(id)
        })
        .await?;
    let who = Principal {
        user_id: owner.id,
        role: Role::User,
        session_id: SessionId(0),
    };
    settings::put_settings(
        &state,
        &who,
        id,
        SettingsBody {
            timezone: TIMEZONE.name().into(),
            durations: vec![30, 60],
            price_minor: 0,
            currency: "EUR".into(),
            min_notice_hours: 0,
            buffer_minutes: BUFFER,
            max_per_day: MAX_PER_DAY,
            horizon_days: 90,
            request_ttl_hours: 48,
            cancel_window_hours: 24,
        },
    )
    .await?;

    // Weekly rules and exceptions, from tomorrow (local) for eight weeks.
    let first_day = now.with_timezone(&TIMEZONE).date_naive() + Span::days(1);
    let days: Vec<NaiveDate> = (0..DAYS).map(|i| first_day + Span::days(i)).collect();
    let mut exceptions: Vec<Ex> = vec![
        (
            weekday_from(first_day + Span::days(3)),
            false,
            Some((12 * 60, 14 * 60)),
        ),
        (weekday_from(first_day + Span::days(10)), false, None),
        (
            weekday_from(first_day + Span::days(20)),
            false,
            Some((8 * 60, 10 * 60)),
        ),
        (
            weekday_from(first_day + Span::days(30)),
            true,
            Some((18 * 60, 20 * 60)),
        ),
    ];
    for d in days.iter().filter(|d| d.weekday() == Weekday::Sat) {
        exceptions.push((*d, true, Some((9 * 60, 18 * 60))));
    }
    let rules = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| Rule {
            weekday: (*d).into(),
            start: "08:00".into(),
            end: "18:00".into(),
        })
        .collect();
    let exception_bodies = exceptions
        .iter()
        .map(|(d, extra, w)| Exception {
            date: d.format("%Y-%m-%d").to_string(),
            kind: if *extra { "extra" } else { "block" }.into(),
            start: w.map(|w| hhmm(w.0)),
            end: w.map(|w| hhmm(w.1)),
        })
        .collect();
    settings::put_availability(
        &state,
        &who,
        id,
        AvailabilityBody {
            timezone: TIMEZONE.name().into(),
            rules,
            exceptions: exception_bodies,
        },
    )
    .await?;

    // 500 live sessions, round-robin over the open days.
    let per_day: Vec<(NaiveDate, Vec<(i64, i64)>)> = days
        .iter()
        .map(|d| (*d, positions(&windows_on(*d, &exceptions))))
        .collect();
    let mut placed: Vec<(DateTime<Utc>, i64)> = Vec::with_capacity(SESSIONS);
    'fill: for round in 0.. {
        let mut any = false;
        for (day, pos) in &per_day {
            if let Some(&(start, len)) = pos.get(round) {
                any = true;
                placed.push((local_instant(TIMEZONE, *day, start, false), len));
                if placed.len() == SESSIONS {
                    break 'fill;
                }
            }
        }
        if !any {
            return Err(format!("only {} session places in {DAYS} days", placed.len()).into());
        }
    }
    let keys = state.keys.clone();
    let reader_id = reader.id;
    state
        .db
        .write(move |tx| {
            for (start, len) in &placed {
                consulting_sessions::insert(
                    tx,
                    &keys,
                    &NewSession {
                        researcher: id,
                        reader: reader_id,
                        paper: None,
                        query: None,
                        topic: "Benchmark session",
                        start: *start,
                        duration_minutes: *len,
                        price_minor: 0,
                        currency: "EUR",
                        expires_at: *start,
                    },
                    now,
                )?;
            }
            Ok(())
        })
        .await?;
    let open_days = per_day.iter().filter(|(_, p)| !p.is_empty()).count();

    let from = local_instant(TIMEZONE, first_day, 0, false);
    let to = from + Span::days(DAYS);
    let (config, now) = (state.config.clone(), state.now());
    let (loaded, busy) = state
        .db
        .read(move |c| {
            let loaded = settings::load(c, &config.sessions, id)?;
            let busy = consulting_sessions::busy(
                c,
                id,
                from - Span::days(2),
                to + Span::days(2),
                None,
                now,
            )?;
            Ok((loaded, busy))
        })
        .await?;
    let avail = loaded
        .availability
        .ok_or("the availability was not saved")?;
    println!(
        "availability benchmark: researcher in {tz}, Mon–Fri 08:00–18:00 + {ex} exceptions, {n} live sessions on {open_days} open days ({first_day} … {last}), query {QUERY_DURATION}-minute slots over {DAYS} days, {iterations} iterations after {warm} warm-up",
        tz = TIMEZONE.name(),
        ex = exceptions.len(),
        n = busy.len(),
        last = days.last().copied().unwrap_or(first_day),
        warm = iterations / 10,
    );

    // 1. The full service call: reader pool, database read, computation.
    let mut slot_count = 0;
    for _ in 0..iterations / 10 {
        slot_count = settings::slots(&state, id, from, to, Some(QUERY_DURATION))
            .await?
            .len();
    }
    let mut lat = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        let slots = settings::slots(&state, id, from, to, Some(QUERY_DURATION)).await?;
        lat.push(t.elapsed());
        slot_count = black_box(slots).len();
    }
    let p99 = report("settings::slots (service, reader pool)", lat, slot_count);

    // Sanity: no slot overlaps a session or its buffer.
    let slots = settings::slots(&state, id, from, to, Some(QUERY_DURATION)).await?;
    let buffer = Span::minutes(BUFFER);
    let clashes = slots
        .iter()
        .filter(|s| {
            busy.iter()
                .any(|b| s.start < b.end + buffer && b.start < s.end + buffer)
        })
        .count();

    // 2. The same on a connection the bench holds (no pool, no thread hop).
    let conn = rusqlite::Connection::open(state.config.database_path())?;
    let sessions_config = state.config.sessions.clone();
    let mut lat = Vec::with_capacity(iterations);
    for _ in 0..iterations / 10 + iterations {
        let t = Instant::now();
        let slots = settings::slots_in(
            &conn,
            &sessions_config,
            id,
            state.now(),
            from,
            to,
            Some(QUERY_DURATION),
        )?;
        lat.push(t.elapsed());
        slot_count = black_box(slots).len();
    }
    lat.drain(..iterations / 10);
    report("settings::slots_in (held connection)", lat, slot_count);

    // 3. The pure computation on preloaded inputs.
    let mut lat = Vec::with_capacity(iterations);
    for _ in 0..iterations / 10 + iterations {
        let now = state.now();
        let t = Instant::now();
        let slots = availability::free_slots(
            &loaded.settings,
            &avail,
            black_box(&busy),
            now,
            from,
            to,
            QUERY_DURATION,
        );
        lat.push(t.elapsed());
        slot_count = black_box(slots).len();
    }
    lat.drain(..iterations / 10);
    report("availability::free_slots (pure)", lat, slot_count);

    let ok = p99 < TARGET_P99 && clashes == 0 && busy.len() == SESSIONS && !slots.is_empty();
    println!(
        "{verdict}: settings::slots p99 {p99:.3} ms (target < {target} ms); {busy} sessions loaded (expected {SESSIONS}); {n} slots, {clashes} overlapping a session",
        verdict = if ok { "PASS" } else { "FAIL" },
        p99 = ms(p99),
        target = TARGET_P99.as_millis(),
        busy = busy.len(),
        n = slots.len(),
    );
    Ok(ok)
}

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let iterations = env_usize("ITERATIONS", 2000).max(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ok = rt.block_on(run(iterations))?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
