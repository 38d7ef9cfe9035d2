//! A researcher's booking settings and availability, and the free slots
//! that follow from them. Settings and slots are public (a reader needs
//! them to book); only the researcher or an admin may change them.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::SessionsConfig;
use crate::db::repos::booking_settings;
use crate::db::repos::{consulting_sessions, researchers};
pub use crate::domain::availability::BookingSettings as SettingsBody;
use crate::domain::availability::{
    self, parse_timezone, Availability, Exception, FieldError, Rule, Settings, Slot,
};
use crate::domain::ResearcherId;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// The widest range one availability query may ask for.
pub const MAX_RANGE_DAYS: i64 = 62;

/// Weekly rules and exceptions in the researcher's local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityBody {
    #[schema(value_type = crate::domain::api_schema::TimeZoneName)]
    pub timezone: String,
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub exceptions: Vec<Exception>,
}

/// Published availability, with what was saved but cannot be booked.
/// Its fields are spelled out rather than flattened from the request's
/// `AvailabilityBody`: that one forbids other properties, and as an
/// `allOf` part it made every answer (with `warnings`) break its schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    #[schema(value_type = crate::domain::api_schema::TimeZoneName)]
    pub timezone: String,
    pub rules: Vec<Rule>,
    pub exceptions: Vec<Exception>,
    /// Windows saved but too short for the shortest session length, so no
    /// one can book them; empty when every window can be booked.
    pub warnings: Vec<Warning>,
}

/// A problem that did not stop the save.
#[derive(Debug, Serialize, ToSchema)]
pub struct Warning {
    /// The item, as a JSON path into the request: `rules[0]`, `exceptions[2]`.
    pub field: String,
    pub message: String,
}

/// Everything the booking check needs, loaded in one go.
pub struct Loaded {
    pub body: SettingsBody,
    pub settings: Settings,
    pub availability: Option<Availability>,
}

fn defaults(c: &SessionsConfig, tz: Option<String>) -> SettingsBody {
    SettingsBody {
        timezone: tz.unwrap_or_else(|| c.default_timezone.clone()),
        durations: c.default_durations.clone(),
        price_minor: 0,
        currency: c.default_currency.clone(),
        min_notice_hours: c.default_min_notice_hours,
        buffer_minutes: c.default_buffer_minutes,
        max_per_day: c.default_max_per_day,
        horizon_days: c.default_horizon_days,
        request_ttl_hours: c.default_request_ttl_hours,
        cancel_window_hours: c.default_cancel_window_hours,
    }
}

/// Checks every field; the error names every bad one.
pub fn check(body: &SettingsBody) -> AppResult<Settings> {
    body.check().map_err(invalid)
}

/// A validation error naming every problem (`rules[2]`, `timezone`, …).
pub fn invalid(problems: Vec<FieldError>) -> AppError {
    let mut errs = FieldErrors::new();
    for (field, message) in problems {
        errs.add(&field, message);
    }
    match errs.into_result() {
        Err(e) => e,
        Ok(()) => AppError::internal("a validation error without problems"),
    }
}

/// Checks a whole availability body (zone, rules, exceptions), naming
/// every problem. Rules are kept as written (`thursday`, `9:00`).
pub fn check_availability(body: &AvailabilityBody) -> AppResult<(Tz, Availability)> {
    let zone = parse_timezone(&body.timezone);
    let parsed = Availability::parse(&body.rules, &body.exceptions);
    match (zone, parsed) {
        (Ok(z), Ok(a)) => Ok((z, a)),
        (zone, parsed) => {
            let mut problems = parsed.err().unwrap_or_default();
            if let Err(m) = zone {
                problems.insert(0, ("timezone".into(), m));
            }
            Err(invalid(problems))
        }
    }
}

/// Loads settings (or the configured defaults) and availability.
pub fn load(conn: &Connection, config: &SessionsConfig, id: ResearcherId) -> AppResult<Loaded> {
    let body = match booking_settings::find(conn, id)? {
        Some(mut saved) => {
            if saved.timezone.is_empty() {
                saved.timezone = config.default_timezone.clone();
            }
            saved
        }
        None => defaults(config, booking_settings::timezone(conn, id)?),
    };
    let settings = check(&body)
        .map_err(|e| AppError::internal(format!("stored settings of researcher {id}: {e}")))?;
    let availability = booking_settings::availability(conn, id)?
        .map(|(rules, exceptions)| Availability::parse(&rules, &exceptions))
        .transpose()
        .map_err(|p| AppError::internal(format!("stored availability: {p:?}")))?;
    Ok(Loaded {
        body,
        settings,
        availability,
    })
}

/// `NotFound` unless the researcher exists; `Forbidden` unless the caller
/// is that researcher or an admin.
pub fn require_manager(conn: &Connection, who: &Principal, id: ResearcherId) -> AppResult<()> {
    if !researchers::exists(conn, id)? {
        return Err(AppError::NotFound);
    }
    if who.is_admin() || researchers::by_user(conn, who.user_id)? == Some(id) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn require_exists(conn: &Connection, id: ResearcherId) -> AppResult<()> {
    if researchers::exists(conn, id)? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn get_settings(state: &AppState, id: ResearcherId) -> AppResult<SettingsBody> {
    let config = state.config.clone();
    state
        .db
        .read(move |c| {
            require_exists(c, id)?;
            Ok(load(c, &config.sessions, id)?.body)
        })
        .await
}

pub async fn put_settings(
    state: &AppState,
    who: &Principal,
    id: ResearcherId,
    body: SettingsBody,
) -> AppResult<SettingsBody> {
    let checked = check(&body)?;
    let who = *who;
    let now = state.now();
    let row = SettingsBody {
        timezone: checked.timezone.name().to_string(),
        durations: checked.durations.clone(),
        currency: body.currency.to_uppercase(),
        ..body
    };
    let config = state.config.clone();
    state
        .db
        .write(move |tx| {
            require_manager(tx, &who, id)?;
            booking_settings::save(tx, id, &row, now)?;
            Ok(load(tx, &config.sessions, id)?.body)
        })
        .await
}

/// The rules and exceptions as saved (empty when never published).
pub async fn get_availability(state: &AppState, id: ResearcherId) -> AppResult<AvailabilityBody> {
    let config = state.config.clone();
    state
        .db
        .read(move |c| {
            require_exists(c, id)?;
            let tz = load(c, &config.sessions, id)?.body.timezone;
            let (rules, exceptions) = booking_settings::availability(c, id)?.unwrap_or_default();
            Ok(AvailabilityBody {
                timezone: tz,
                rules,
                exceptions,
            })
        })
        .await
}

pub async fn put_availability(
    state: &AppState,
    who: &Principal,
    id: ResearcherId,
    body: AvailabilityBody,
) -> AppResult<Published> {
    let (tz, parsed) = check_availability(&body)?;
    let body = AvailabilityBody {
        timezone: tz.name().to_string(),
        ..body
    };
    let (who, now, config) = (*who, state.now(), state.config.sessions.clone());
    state
        .db
        .write(move |tx| {
            require_manager(tx, &who, id)?;
            booking_settings::set_timezone(tx, id, tz.name(), now)?;
            booking_settings::save_availability(tx, id, &body.rules, &body.exceptions, now)?;
            let shortest = load(tx, &config, id)?.body.durations.into_iter().min();
            let warnings = parsed
                .too_short(shortest.unwrap_or(0))
                .into_iter()
                .map(|(field, message)| Warning { field, message })
                .collect();
            Ok(Published {
                timezone: body.timezone,
                rules: body.rules,
                exceptions: body.exceptions,
                warnings,
            })
        })
        .await
}

/// Checks a slot query's range and length.
pub fn check_range(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    duration: i64,
    offered: &[i64],
) -> AppResult<()> {
    if to <= from {
        return Err(AppError::field("to", "must be after from"));
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(AppError::field(
            "to",
            format!("the range may span at most {MAX_RANGE_DAYS} days"),
        ));
    }
    if !offered.contains(&duration) {
        return Err(AppError::field(
            "duration",
            format!("this researcher offers sessions of {offered:?} minutes"),
        ));
    }
    Ok(())
}

/// Free slots of `duration` minutes (default: the shortest offered)
/// starting in `[from, to)`.
pub async fn slots(
    state: &AppState,
    id: ResearcherId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    duration: Option<i64>,
) -> AppResult<Vec<Slot>> {
    let config = state.config.clone();
    let now = state.now();
    state
        .db
        .read(move |c| {
            require_exists(c, id)?;
            slots_in(c, &config.sessions, id, now, from, to, duration)
        })
        .await
}

/// `slots` on a connection the caller holds (also used by benchmarks).
pub fn slots_in(
    c: &Connection,
    config: &SessionsConfig,
    id: ResearcherId,
    now: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    duration: Option<i64>,
) -> AppResult<Vec<Slot>> {
    let loaded = load(c, config, id)?;
    let duration = duration
        .or_else(|| loaded.settings.durations.first().copied())
        .unwrap_or(60);
    check_range(from, to, duration, &loaded.settings.durations)?;
    let Some(avail) = loaded.availability else {
        return Ok(Vec::new());
    };
    let busy = consulting_sessions::busy(
        c,
        id,
        from - Duration::days(2),
        to + Duration::days(2),
        None,
        now,
    )?;
    Ok(availability::free_slots(
        &loaded.settings,
        &avail,
        &busy,
        now,
        from,
        to,
        duration,
    ))
}

/// What a researcher's public page needs to offer booking.
pub struct BookingInfo {
    /// The researcher registered, so requests reach them.
    pub registered: bool,
    pub owner: Option<crate::domain::UserId>,
    pub has_availability: bool,
    pub settings: SettingsBody,
    /// Their papers in the catalogue: (id, title, year).
    pub papers: Vec<(crate::domain::PaperId, String, Option<i64>)>,
}

pub async fn booking_info(state: &AppState, id: ResearcherId) -> AppResult<BookingInfo> {
    let config = state.config.clone();
    state
        .db
        .read(move |c| {
            require_exists(c, id)?;
            let owner = researchers::owner(c, id)?.flatten();
            let loaded = load(c, &config.sessions, id)?;
            Ok(BookingInfo {
                registered: owner.is_some(),
                owner,
                has_availability: loaded.availability.is_some(),
                settings: loaded.body,
                papers: crate::db::repos::papers::for_researcher(c, id, 50)?,
            })
        })
        .await
}
