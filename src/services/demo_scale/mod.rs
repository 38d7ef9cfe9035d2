//! `colloquy demo --scale`: a large, realistic and reproducible data set
//! for benchmarks and dashboards (issue 14). By default 2,000 researchers,
//! 20,000 readers and 200,000 sessions over the two years before now, with
//! their payments, ledger, reviews, subscriptions, outreach, readers'
//! interest and progress, provider calls and daily analytics counters.
//!
//! Everything is planned first from one seeded RNG (`people`, `calendar`,
//! `fates`, `story`, `activity`, `counters`: pure, so the same seed gives
//! the same data), then written in large transactions (`write_people`,
//! `write_sessions`, `activity`, `ledger`, `counters`).
//! Rows are written in the state their story ends in, not moved through
//! the lifecycle, so 200,000 sessions take seconds; every row still reads
//! as if the real flows had made it: a session's `session_events` retell
//! its status, a payment's ledger rows its money, and
//! `researcher_ratings` adds up the published reviews.

mod activity;
mod calendar;
mod counters;
mod fates;
mod ledger;
mod people;
mod planned;
mod story;
mod words;
mod write_people;
mod write_sessions;

use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;

use crate::config::Config;
use crate::db::repos::{audit, generated};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

type Time = chrono::DateTime<chrono::Utc>;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleSpec {
    pub researchers: usize,
    /// None: three for every two researchers.
    pub papers: Option<usize>,
    pub readers: usize,
    pub sessions: usize,
    /// The span the sessions fall in, ending now (plus the coming month's
    /// bookings).
    pub days: i64,
    /// The same seed on an empty database gives the same rows.
    pub seed: u64,
    /// Add to a database that has sessions already (nothing is ever
    /// deleted either way).
    pub force: bool,
}

impl Default for ScaleSpec {
    fn default() -> Self {
        Self {
            researchers: 2_000,
            papers: None,
            readers: 20_000,
            sessions: 200_000,
            days: 730,
            seed: 14,
            force: false,
        }
    }
}

impl ScaleSpec {
    /// `colloquy demo --scale N`: about a large university's N thousand
    /// papers, with 3,000 researchers, 400 readers and 10,000 sessions for
    /// each 1,000 papers (N = 100: 100,000 papers, 300,000 researchers,
    /// 40,000 readers and 1,000,000 sessions).
    pub fn at_scale(n: usize) -> Self {
        Self {
            researchers: 3_000 * n,
            papers: Some(1_000 * n),
            readers: 400 * n,
            sessions: 10_000 * n,
            ..Self::default()
        }
    }

    pub fn paper_count(&self) -> usize {
        self.papers.unwrap_or(self.researchers * 3 / 2).max(1)
    }

    /// Refuses a spec the calendar cannot hold: each bookable researcher
    /// (about 70 %) offers at least eight slots a week, and the generator
    /// fills at most a third of them so that choices stay realistic.
    pub fn check(&self) -> AppResult<()> {
        if self.researchers == 0 || self.readers == 0 {
            return Err(AppError::field(
                "researchers",
                "at least one researcher and one reader are needed",
            ));
        }
        if self.papers == Some(0) {
            return Err(AppError::field("papers", "at least one paper is needed"));
        }
        if !(7..=3_650).contains(&self.days) {
            return Err(AppError::field("days", "between 7 and 3650 days"));
        }
        let bookable = people::bookable_count(self.researchers);
        let weeks = (self.days + calendar::FUTURE_DAYS) as usize / 7 + 1;
        let most = bookable * weeks * 8 / 3;
        if self.sessions > most {
            return Err(AppError::field(
                "sessions",
                format!(
                    "at most {most} sessions fit {} researchers over {} days; add researchers or days",
                    self.researchers, self.days
                ),
            ));
        }
        Ok(())
    }
}

/// What was written, for the summary line.
#[derive(Debug, Clone, Default)]
pub struct ScaleReport {
    pub researchers: usize,
    /// Researchers with an account, settings and availability (bookable).
    pub researcher_accounts: usize,
    pub readers: usize,
    pub papers: usize,
    pub sessions: usize,
    pub events: usize,
    pub payments: usize,
    pub ledger_rows: usize,
    pub reviews: usize,
    pub subscriptions: usize,
    pub outreach: usize,
    pub interest: usize,
    pub progress: usize,
    pub provider_calls: usize,
    pub counters: usize,
    pub seconds: f64,
}

impl ScaleReport {
    fn absorb(&mut self, o: &ScaleReport) {
        self.researchers += o.researchers;
        self.researcher_accounts += o.researcher_accounts;
        self.readers += o.readers;
        self.papers += o.papers;
        self.sessions += o.sessions;
        self.events += o.events;
        self.payments += o.payments;
        self.ledger_rows += o.ledger_rows;
        self.reviews += o.reviews;
        self.subscriptions += o.subscriptions;
        self.outreach += o.outreach;
        self.interest += o.interest;
        self.progress += o.progress;
        self.provider_calls += o.provider_calls;
        self.counters += o.counters;
    }
}

/// Where the generator is, for a progress bar or a log line: `done` of
/// `total` rows of `stage` (a total of 0: a stage without a count).
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    pub stage: &'a str,
    pub done: usize,
    pub total: usize,
}

impl<'a> Step<'a> {
    pub fn begin(stage: &'a str) -> Self {
        Self::of(stage, 0, 0)
    }

    pub fn of(stage: &'a str, done: usize, total: usize) -> Self {
        Self { stage, done, total }
    }
}

impl std::fmt::Display for Step<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.total == 0 {
            f.write_str(self.stage)
        } else {
            write!(f, "{}: {}/{}", self.stage, self.done, self.total)
        }
    }
}

/// Sessions written per transaction (about 25,000 rows with their events,
/// payments and reviews).
const SESSION_BATCH: usize = 5_000;

/// Generates the data set described by `spec` into the database, telling
/// `progress` what it is doing. Refuses a database that has sessions
/// unless `spec.force`.
pub async fn generate(
    state: &AppState,
    spec: &ScaleSpec,
    progress: impl Fn(&Step),
) -> AppResult<ScaleReport> {
    spec.check()?;
    let began = Instant::now();
    let (existing, tag) = state
        .db
        .read(|c| Ok((generated::session_count(c)?, generated::last_user_id(c)?)))
        .await?;
    if existing > 0 && !spec.force {
        return Err(AppError::conflict(
            "has_sessions",
            format!(
                "The database already has {existing} sessions. The generated data set goes into an \
                 empty one; to add it on top of these anyway, pass --force (nothing is deleted)."
            ),
        ));
    }
    let now = state.now();
    let config = &state.config;
    progress(&Step::begin(
        "planning people, papers, sessions and activity",
    ));
    let plan = Plan::new(spec, config, now)?;
    let people = Arc::new(plan.people);
    let written = write_people::write(state, &people, tag, &progress).await?;
    let mut report = written.totals;
    let ids = written.ids;
    let rules = story::Rules::from_config(config);
    let (done, mut money) = write_sessions::write(
        state,
        plan.sessions,
        &people,
        &ids,
        rules,
        (tag, now),
        &progress,
    )
    .await?;
    report.absorb(&done);
    progress(&Step::begin(
        "subscriptions, interest, reading progress, provider calls",
    ));
    let (done, charges) = activity::write(state, plan.activity, &people, &ids, (tag, now)).await?;
    report.absorb(&done);
    money.extend(charges);
    report.absorb(&ledger::write(state, money, &progress).await?);
    progress(&Step::begin("analytics counters"));
    report.absorb(&counters::write(state, plan.counters, &ids).await?);
    let detail = json!({
        "seed": spec.seed,
        "days": spec.days,
        "researchers": report.researchers,
        "readers": report.readers,
        "sessions": report.sessions,
    });
    let keys = state.keys.clone();
    state
        .db
        .write(move |tx| {
            let event = audit::NewEvent {
                actor: None,
                action: "demo.scale_generated",
                target: None,
                detail,
                ip: None,
            };
            audit::append(tx, &keys, event, now).map(|_| ())
        })
        .await?;
    // The WAL folded into the file, so the first start reads a settled
    // database. No ANALYZE: the service never runs it, so the data set is
    // planned as a production database is (docs/query_plans.md).
    progress(&Step::begin("checkpoint"));
    state.db.checkpoint_truncate().await?;
    report.seconds = began.elapsed().as_secs_f64();
    Ok(report)
}

/// Everything to write, drawn from the seed alone (and now, and the
/// configuration): the same inputs give the same plan.
#[derive(Debug, PartialEq)]
pub(crate) struct Plan {
    people: people::People,
    sessions: Vec<calendar::Planned>,
    activity: activity::Activity,
    counters: Vec<counters::Counter>,
}

impl Plan {
    pub(crate) fn new(spec: &ScaleSpec, config: &Config, now: Time) -> AppResult<Self> {
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let people = people::plan(spec, now, &mut rng);
        let sessions = calendar::plan(spec, &people, config, now, &mut rng)?;
        let activity = activity::plan(spec, &people, now, &mut rng);
        let zone = (config.institution.zone(), config.analytics.retention_days);
        let counters = counters::plan(spec, &people, zone, now, &mut rng);
        Ok(Self {
            people,
            sessions,
            activity,
            counters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SessionStatus;

    fn spec(seed: u64) -> ScaleSpec {
        ScaleSpec {
            researchers: 20,
            papers: None,
            readers: 100,
            sessions: 500,
            days: 120,
            seed,
            force: false,
        }
    }

    fn now() -> Time {
        "2026-11-26T10:30:00Z".parse().unwrap()
    }

    #[test]
    fn the_same_seed_plans_the_same_data_and_another_seed_other_data() {
        let config = Config::default();
        let a = Plan::new(&spec(1), &config, now()).unwrap();
        let b = Plan::new(&spec(1), &config, now()).unwrap();
        let c = Plan::new(&spec(2), &config, now()).unwrap();
        assert_eq!(a.sessions.len(), 500);
        assert!(a == b, "the same seed planned different data");
        assert_ne!(a.sessions, c.sessions);
    }

    #[test]
    fn every_story_starts_with_the_request_and_stays_in_the_past() {
        let config = Config::default();
        let plan = Plan::new(&spec(1), &config, now()).unwrap();
        let rules = story::Rules::from_config(&config);
        for p in &plan.sessions {
            let s = story::tell(p, 4_000, "EUR", &rules, now());
            assert_eq!(s.events[0].name, "requested");
            assert!(s.events.windows(2).all(|w| w[0].at <= w[1].at), "{s:?}");
            assert!(s.events.iter().all(|e| e.at <= now()), "{s:?}");
            assert!(p.created < p.start && p.created <= now());
            if s.status == SessionStatus::Requested {
                assert!(p.expires > now() && p.start > now(), "{p:?}");
            }
        }
    }

    #[test]
    fn a_spec_the_calendar_cannot_hold_is_refused() {
        let too_many = ScaleSpec {
            sessions: 1_000_000,
            ..spec(1)
        };
        let e = too_many.check().unwrap_err();
        assert!(e.to_string().contains("at most"), "{e}");
        assert!(ScaleSpec::default().check().is_ok());
    }
}
