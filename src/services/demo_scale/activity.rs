//! What happens beside the sessions: readers' subscriptions and their
//! monthly charges, readers asking to consult researchers who have not
//! registered (the demand outreach reads), reading progress with the wish
//! to consult, and the last months' calls to the collection providers.

use std::collections::HashSet;

use chrono::{Duration, Months};
use rand::Rng;

use super::calendar::between;
use super::ledger::Movement;
use super::people::{People, PLACES};
use super::write_people::Ids;
use super::{story, ScaleReport, ScaleSpec, Time};
use crate::db::repos::provider_calls::{self, Call};
use crate::db::repos::{generated, outreach, progress};
use crate::domain::money::apply_tax;
use crate::domain::SubscriptionStatus;
use crate::error::AppResult;
use crate::state::AppState;

pub const PLAN_ID: &str = "scholar";

#[derive(Debug, PartialEq)]
pub struct Subscription {
    reader: usize,
    created: Time,
    canceled: Option<Time>,
    /// One charge a month from `created`.
    charges: Vec<Time>,
}

#[derive(Debug, PartialEq)]
pub struct ProviderCall {
    provider: &'static str,
    operation: &'static str,
    outcome: &'static str,
    paid: bool,
    at: Time,
    ms: u64,
}

#[derive(Debug, PartialEq)]
pub struct Activity {
    subscriptions: Vec<Subscription>,
    /// (researcher, reader, when).
    interest: Vec<(usize, usize, Time)>,
    /// (reader, paper, percent, wants a consultation, when).
    progress: Vec<(usize, usize, u8, bool, Time)>,
    calls: Vec<ProviderCall>,
}

pub fn plan<R: Rng>(spec: &ScaleSpec, people: &People, now: Time, rng: &mut R) -> Activity {
    Activity {
        subscriptions: subscriptions(people, now, rng),
        interest: interest(people, now, rng),
        progress: reading(people, now, rng),
        calls: calls(spec, people, now, rng),
    }
}

/// About one reader in fifty subscribes; 45 % of them cancel later.
fn subscriptions<R: Rng>(people: &People, now: Time, rng: &mut R) -> Vec<Subscription> {
    let readers = &people.readers;
    let mut taken = HashSet::new();
    let mut out = Vec::new();
    for _ in 0..(readers.len() / 50).max(1) {
        let reader = rng.gen_range(0..readers.len());
        if !readers[reader].verified || !taken.insert(reader) {
            continue;
        }
        let from = readers[reader].joined.max(people.start);
        let created = between(rng, from, now - Duration::days(1));
        let canceled = (rng.gen_bool(0.45) && created + Duration::days(31) < now)
            .then(|| between(rng, created + Duration::days(31), now));
        let until = canceled.unwrap_or(now);
        let charges = (0..)
            .map_while(|k| created.checked_add_months(Months::new(k)))
            .take_while(|at| *at <= until)
            .collect();
        out.push(Subscription {
            reader,
            created,
            canceled,
            charges,
        });
    }
    out
}

/// About one row for every eight readers, mostly for profiles that are
/// not bookable (yet), always before the researcher registered.
fn interest<R: Rng>(people: &People, now: Time, rng: &mut R) -> Vec<(usize, usize, Time)> {
    let waiting: Vec<usize> = (0..people.researchers.len())
        .filter(|i| people.researchers[*i].registered.is_none())
        .collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for _ in 0..people.readers.len() / 8 {
        let r = if waiting.is_empty() || rng.gen_bool(0.3) {
            rng.gen_range(0..people.researchers.len())
        } else {
            waiting[rng.gen_range(0..waiting.len())]
        };
        let reader = rng.gen_range(0..people.readers.len());
        let who = &people.researchers[r];
        let from = people.readers[reader].joined.max(who.collected);
        let to = who.registered.unwrap_or(now);
        if from < to && seen.insert((r, reader)) {
            out.push((r, reader, between(rng, from, to)));
        }
    }
    out
}

/// About three papers for every two readers, popular papers more often;
/// a fifth of them with the wish to consult the authors.
fn reading<R: Rng>(people: &People, now: Time, rng: &mut R) -> Vec<(usize, usize, u8, bool, Time)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for _ in 0..people.readers.len() * 3 / 2 {
        let reader = rng.gen_range(0..people.readers.len());
        let paper = ((people.papers.len() as f64) * rng.gen::<f64>().powi(2)) as usize;
        let paper = paper.min(people.papers.len() - 1);
        let from = people.readers[reader]
            .joined
            .max(people.papers[paper].added);
        if from < now && seen.insert((reader, paper)) {
            let percent = rng.gen_range(1..=100);
            out.push((
                reader,
                paper,
                percent,
                rng.gen_bool(0.2),
                between(rng, from, now),
            ));
        }
    }
    out
}

/// Collection over the last (at most) 180 days: OpenAlex (free), then
/// Firecrawl, RocketReach when no e-mail is known, and Tavily (paid when
/// they answer).
fn calls<R: Rng>(spec: &ScaleSpec, people: &People, now: Time, rng: &mut R) -> Vec<ProviderCall> {
    let days = spec.days.min(180);
    let per_day = (people.researchers.len() / 150).max(1);
    let mut out = Vec::new();
    for d in (1..=days).rev() {
        for _ in 0..rng.gen_range(per_day / 2..=per_day * 3 / 2) {
            let at = between(rng, now - Duration::days(d), now - Duration::days(d - 1));
            let mut call = |provider, operation, paid_provider: bool, found: f64, rng: &mut R| {
                let roll: f64 = rng.gen();
                let outcome = if roll < 0.05 {
                    "cached"
                } else if roll < 0.08 {
                    "error"
                } else if roll < 0.08 + (1.0 - found) {
                    "not_found"
                } else {
                    "ok"
                };
                out.push(ProviderCall {
                    provider,
                    operation,
                    outcome,
                    paid: paid_provider && outcome == "ok",
                    at,
                    ms: rng.gen_range(80..2_500),
                });
            };
            call("openalex", "author", false, 0.9, rng);
            call("openalex", "works", false, 0.97, rng);
            call("firecrawl", "profile", true, 0.85, rng);
            if rng.gen_bool(0.45) {
                call("rocketreach", "lookup", true, 0.7, rng);
            }
            call("tavily", "achievements", true, 0.9, rng);
        }
    }
    out
}

pub async fn write(
    state: &AppState,
    a: Activity,
    people: &std::sync::Arc<People>,
    ids: &std::sync::Arc<Ids>,
    (tag, now): (i64, Time),
) -> AppResult<(ScaleReport, Vec<Movement>)> {
    let (people, ids) = (people.clone(), ids.clone());
    state
        .db
        .write(move |tx| {
            let mut moved = Vec::new();
            for (i, s) in a.subscriptions.iter().enumerate() {
                let reader = ids.readers[s.reader];
                let currency = PLACES[people.readers[s.reader].place].currency;
                let price = match currency {
                    "USD" => 1_600,
                    "GBP" => 1_300,
                    _ => 1_500,
                };
                let taxed = apply_tax(price, story::tax_rate(currency).as_ref(), false);
                let last = s.charges.last().copied().unwrap_or(s.created);
                let next = last.checked_add_months(Months::new(1)).unwrap_or(last);
                let stripe_id = format!("sub_scale{tag}_{i}");
                let id = generated::insert_subscription(
                    tx,
                    &generated::Subscription {
                        user: reader,
                        plan_id: PLAN_ID,
                        stripe_id: &stripe_id,
                        status: match s.canceled {
                            Some(_) => SubscriptionStatus::Canceled,
                            None => SubscriptionStatus::Active,
                        },
                        period: (last, next),
                        created_at: s.created,
                        updated_at: s.canceled.unwrap_or(last),
                    },
                )?;
                for (k, at) in s.charges.iter().enumerate() {
                    moved.push(Movement {
                        kind: "subscription_charge",
                        user: reader,
                        session: None,
                        subscription: Some(id),
                        amount: taxed.gross_minor,
                        tax: taxed.tax_minor,
                        fee: 0,
                        currency,
                        stripe_ref: format!("in_scale{tag}_{i}_{k}"),
                        at: *at,
                    });
                }
            }
            for (r, reader, at) in &a.interest {
                let paper = people.papers_of[*r].first().map(|p| ids.papers[*p]);
                outreach::record_interest(
                    tx,
                    ids.researchers[*r],
                    ids.readers[*reader],
                    paper,
                    *at,
                )?;
            }
            for (reader, paper, percent, wants, at) in &a.progress {
                let (user, paper) = (ids.readers[*reader], ids.papers[*paper]);
                progress::upsert(tx, user, paper, *percent, *wants, *at)?;
            }
            for c in &a.calls {
                let call = Call {
                    provider: c.provider,
                    operation: c.operation,
                    outcome: c.outcome,
                    status_code: match c.outcome {
                        "ok" => Some(200),
                        "not_found" => Some(404),
                        "error" => Some(503),
                        _ => None,
                    },
                    attempts: if c.outcome == "error" { 3 } else { 1 },
                    paid: c.paid,
                    duration_ms: if c.outcome == "cached" { 0 } else { c.ms },
                };
                provider_calls::record(tx, &call, c.at.min(now))?;
            }
            let report = ScaleReport {
                subscriptions: a.subscriptions.len(),
                interest: a.interest.len(),
                progress: a.progress.len(),
                provider_calls: a.calls.len(),
                ..ScaleReport::default()
            };
            Ok((report, moved))
        })
        .await
}
