//! Writes the planned people: readers' accounts, researcher profiles with
//! their collected fields and provenance, invitations and their history,
//! the accounts of those who registered (profile claimed, listing
//! consent, booking settings and weekly availability, as registration and
//! the settings page leave them), and the papers that link them.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use super::calendar::{self, TEMPLATES, WEEKDAYS};
use super::people::{People, Reader, Researcher, PLACES};
use super::{ScaleReport, Step, Time};
use crate::config::InstitutionConfig;
use crate::crypto::Keyring;
use crate::db::repos::outreach::{self, NewOutreach};
use crate::db::repos::{booking_settings, consents, generated, papers, researchers};
use crate::domain::availability::{BookingSettings, Rule};
use crate::domain::paper::{NewAuthor, NewPaper};
use crate::domain::researcher::{Field, FieldValue, Provenance};
use crate::domain::zone::Tz;
use crate::domain::ConsentSource;
use crate::domain::{
    CollectionStatus, Email, OutreachStatus, PaperId, ResearcherId, ResearcherStatus, Role, UserId,
};
use crate::error::{AppError, AppResult};
use crate::services::terms;
use crate::state::AppState;

/// The database ids of the planned people, by plan index.
pub struct Ids {
    pub readers: Vec<UserId>,
    pub researchers: Vec<ResearcherId>,
    pub papers: Vec<PaperId>,
}

pub struct Written {
    pub ids: Arc<Ids>,
    pub totals: ScaleReport,
}

fn email(kind: &str, i: usize, tag: i64) -> AppResult<Email> {
    Email::parse(&format!("{kind}-{i}@scale{tag}.example.org")).map_err(AppError::internal)
}

/// The day, week (Monday) and month (1st) of `at` in the institution's
/// zone, as `analytics_counters.day` spells them.
pub fn periods(at: Time, zone: Tz) -> [String; 3] {
    day_periods(at.with_timezone(&zone).date_naive())
}

/// `day`, the Monday of its week and the 1st of its month, as keys.
pub fn day_periods(day: chrono::NaiveDate) -> [String; 3] {
    use chrono::Datelike;
    let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
    let first = day.with_day(1).unwrap_or(day);
    [day, monday, first].map(|d| d.format("%Y-%m-%d").to_string())
}

/// Rows of one kind written per transaction, between progress steps.
const BATCH: usize = 10_000;

pub async fn write(
    state: &AppState,
    people: &Arc<People>,
    tag: i64,
    progress: &impl Fn(&Step),
) -> AppResult<Written> {
    // Every account and profile gets its own data key; made ahead in a few
    // batches rather than one disk sync each.
    let accounts = people.readers.len() + people.researchers.len();
    progress(&Step::begin("data keys"));
    prepare_keys(state, "users", 'u', accounts).await?;
    prepare_keys(state, "researchers", 'r', people.researchers.len()).await?;
    let (keys, plan) = (state.keys.clone(), people.clone());
    let inst = state.config.institution.clone();
    let zone = state.config.institution.zone();
    let readers = in_batches(
        state,
        "readers",
        people.readers.len(),
        progress,
        move |tx, i| reader(tx, &keys, &inst, zone, &plan.readers[i], i, tag),
    )
    .await?;
    let (keys, plan) = (state.keys.clone(), people.clone());
    let inst = state.config.institution.clone();
    let total = people.researchers.len();
    let profiles = in_batches(state, "researchers", total, progress, move |tx, i| {
        researcher(tx, &keys, &inst, &plan.researchers[i], i, tag)
    })
    .await?;
    let outreach = profiles.iter().filter(|(_, invited)| *invited).count();
    let researchers: Arc<Vec<ResearcherId>> =
        Arc::new(profiles.into_iter().map(|(id, _)| id).collect());
    let (plan, ids) = (people.clone(), researchers.clone());
    let papers = in_batches(
        state,
        "papers",
        people.papers.len(),
        progress,
        move |tx, i| paper_in(tx, &plan, i, &ids, tag),
    )
    .await?;
    let totals = ScaleReport {
        readers: readers.len(),
        researchers: researchers.len(),
        researcher_accounts: people
            .researchers
            .iter()
            .filter(|r| r.registered.is_some())
            .count(),
        papers: papers.len(),
        outreach,
        ..ScaleReport::default()
    };
    Ok(Written {
        ids: Arc::new(Ids {
            readers,
            researchers: Arc::unwrap_or_clone(researchers),
            papers,
        }),
        totals,
    })
}

/// Writes rows `0..total` with `row`, `BATCH` to a transaction, telling
/// `progress` after each; their results in order.
async fn in_batches<T, F>(
    state: &AppState,
    stage: &str,
    total: usize,
    progress: &impl Fn(&Step),
    row: F,
) -> AppResult<Vec<T>>
where
    T: Send + 'static,
    F: Fn(&rusqlite::Transaction<'_>, usize) -> AppResult<T> + Clone + Send + 'static,
{
    let mut out = Vec::with_capacity(total);
    for from in (0..total).step_by(BATCH) {
        let (row, to) = (row.clone(), (from + BATCH).min(total));
        let done = state
            .db
            .write(move |tx| {
                (from..to)
                    .map(|i| row(tx, i))
                    .collect::<AppResult<Vec<T>>>()
            })
            .await?;
        out.extend(done);
        progress(&Step::of(stage, out.len(), total));
    }
    Ok(out)
}

/// A reader's account, active in the periods of their last visit.
fn reader(
    tx: &rusqlite::Transaction<'_>,
    keys: &Keyring,
    inst: &InstitutionConfig,
    zone: Tz,
    r: &Reader,
    i: usize,
    tag: i64,
) -> AppResult<UserId> {
    let address = email("reader", i, tag)?;
    let active = periods(r.last_active, zone);
    generated::insert_account(
        tx,
        keys,
        &generated::Account {
            email: &address,
            name: &r.name,
            role: Role::User,
            accepted: terms::accepted_now(inst, ConsentSource::Demo),
            timezone: PLACES[r.place].zone,
            created_at: r.joined,
            verified_at: r.verified.then(|| r.joined + Duration::minutes(3)),
            active: Some([&active[0], &active[1], &active[2]]),
        },
    )
}

/// Makes the data keys of the next `n` rows of `table` (ids follow the
/// largest one: the generator is the only writer).
async fn prepare_keys(
    state: &AppState,
    table: &'static str,
    kind: char,
    n: usize,
) -> AppResult<()> {
    let next: i64 = state
        .db
        .read(move |c| {
            Ok(c.query_row(
                &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"),
                [],
                |r| r.get(0),
            )?)
        })
        .await?;
    let keys = state.keys.clone();
    tokio::task::spawn_blocking(move || {
        let subjects: Vec<String> = (next..next + n as i64)
            .map(|i| format!("{kind}{i}"))
            .collect();
        for batch in subjects.chunks(5_000) {
            keys.ensure_subject_keys(batch)
                .map_err(|e| crate::error::AppError::internal(format!("subject keys: {e}")))?;
        }
        Ok(())
    })
    .await?
}

/// One profile and everything its story left; whether it was invited.
fn researcher(
    tx: &rusqlite::Transaction<'_>,
    keys: &Keyring,
    inst: &InstitutionConfig,
    r: &Researcher,
    i: usize,
    tag: i64,
) -> AppResult<(ResearcherId, bool)> {
    let at = r.collected;
    let id = researchers::insert(tx, &r.name, Some(r.affiliation), None, at)?;
    let field = super::words::FIELDS[r.field];
    let openalex = Provenance {
        provider: "openalex".into(),
        source_url: None,
    };
    let values = [
        (Field::WorksCount, FieldValue::Int(r.works)),
        (
            Field::CitedByCount,
            FieldValue::Int(r.works * (r.h_index + 3)),
        ),
        (Field::HIndex, FieldValue::Int(r.h_index)),
        (Field::Topics, FieldValue::Json(json!([field]))),
    ];
    researchers::apply(tx, keys, id, &values, &openalex, at)?;
    researchers::mark_collected(tx, id, at)?;
    let address = email("researcher", i, tag)?;
    if r.email_found {
        let found = FieldValue::Email {
            address: address.as_str().to_string(),
            quality: Some("A".into()),
        };
        let rocketreach = Provenance {
            provider: "rocketreach".into(),
            source_url: None,
        };
        let at = at + Duration::minutes(2);
        researchers::apply(tx, keys, id, &[(Field::Email, found)], &rocketreach, at)?;
    }
    let Some((invited, opened)) = r.invited else {
        return Ok((id, false));
    };
    let invitation = NewOutreach {
        researcher: id,
        paper: None,
        requested_by: None,
        kind: "invitation",
        message: None,
    };
    let oid = outreach::insert(tx, keys, &invitation, invited)?;
    let sent = invited + Duration::minutes(1);
    outreach::add_event(tx, oid, OutreachStatus::Sent, sent)?;
    researchers::set_status(tx, id, ResearcherStatus::Invited, sent)?;
    let opened_at = match r.registered {
        Some(reg) => sent + (reg - sent) / 2,
        None => sent + Duration::hours(3),
    };
    if opened {
        outreach::add_event(tx, oid, OutreachStatus::Opened, opened_at)?;
    }
    if let Some(reg) = r.registered {
        register(tx, keys, inst, r, id, &address, reg)?;
        outreach::add_event(tx, oid, OutreachStatus::Registered, reg)?;
    }
    Ok((id, true))
}

/// What registering through the invitation and saving the settings and
/// the weekly times leaves behind.
fn register(
    tx: &rusqlite::Transaction<'_>,
    keys: &Keyring,
    inst: &InstitutionConfig,
    r: &Researcher,
    id: ResearcherId,
    address: &Email,
    at: Time,
) -> AppResult<()> {
    let place = &PLACES[r.place];
    let user = generated::insert_account(
        tx,
        keys,
        &generated::Account {
            email: address,
            name: &r.name,
            role: Role::Researcher,
            accepted: terms::accepted_now(inst, ConsentSource::Demo),
            timezone: place.zone,
            created_at: at,
            verified_at: Some(at),
            active: None,
        },
    )?;
    researchers::claim(tx, id, user, at)?;
    let consented = at + Duration::minutes(2);
    researchers::set_listing_consent(tx, id, &inst.terms_version, Some(place.zone), consented)?;
    consents::grant_listing(
        tx,
        user,
        &inst.terms_version,
        ConsentSource::Demo,
        consented,
    )?;
    let saved = at + Duration::minutes(5);
    let settings = BookingSettings {
        timezone: place.zone.to_string(),
        durations: calendar::DURATIONS.to_vec(),
        price_minor: r.price_minor,
        currency: place.currency.to_string(),
        min_notice_hours: calendar::MIN_NOTICE_HOURS,
        buffer_minutes: calendar::BUFFER_MINUTES,
        max_per_day: calendar::MAX_PER_DAY,
        horizon_days: calendar::HORIZON_DAYS,
        request_ttl_hours: calendar::REQUEST_TTL_HOURS,
        cancel_window_hours: calendar::CANCEL_WINDOW_HOURS,
    };
    booking_settings::save(tx, id, &settings, saved)?;
    let template = &TEMPLATES[r.template];
    let rules: Vec<Rule> = template
        .days
        .iter()
        .map(|d| Rule {
            weekday: WEEKDAYS[*d as usize].to_string(),
            start: template.from.to_string(),
            end: template.to.to_string(),
        })
        .collect();
    booking_settings::save_availability(tx, id, &rules, &[], saved)
}

/// Paper `i` with its authors linked, as collected.
fn paper_in(
    tx: &rusqlite::Transaction<'_>,
    plan: &People,
    i: usize,
    researchers: &[ResearcherId],
    tag: i64,
) -> AppResult<PaperId> {
    let p = &plan.papers[i];
    let authors = p
        .authors
        .iter()
        .map(|a| NewAuthor {
            name: plan.researchers[*a].name.clone(),
            affiliation: Some(plan.researchers[*a].affiliation.to_string()),
            orcid: None,
        })
        .collect();
    let paper = NewPaper {
        title: p.title.clone(),
        doi: Some(format!("10.5555/scale{tag}.{i}")),
        year: Some(p.year),
        venue: Some(p.venue.to_string()),
        abstract_text: None,
        url: None,
        authors,
    };
    let id = papers::insert(tx, &paper, "openalex", None, p.added)?;
    for (position, a) in p.authors.iter().enumerate() {
        researchers::link_paper(tx, id, position as i64, researchers[*a])?;
    }
    let collected = super::people::first_collected(&plan.researchers, &p.authors);
    papers::set_collection_status(tx, id, CollectionStatus::Collected, Some(collected))?;
    Ok(id)
}
