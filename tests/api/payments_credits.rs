//! A subscriber's included sessions (issue 18): spent at booking, given
//! back on a decline, an expiry, the researcher's cancellation and the
//! reader's inside the full-refund tier; kept on a late cancellation.
//! `included_left` on `GET /subscriptions/me` is always the plan's
//! allowance plus the period's credit rows, over random sequences too.

use chrono::{DateTime, Duration, Utc};
use colloquy::clock::Clock;
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::payments_fixtures::*;
use crate::payments_ledger::assert_balanced;
use crate::payments_subscriptions::{mine, subscribe};
use crate::sessions_fixtures::{acted, at, booked, Bookable};
use crate::stripe_fakes::*;

/// `included_left`, after checking it is the allowance plus the rows.
async fn left(app: &TestApp, reader: &str, allowance: i64) -> i64 {
    let me = mine(app, reader).await;
    let rows: i64 = me["credits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["delta"].as_i64().unwrap())
        .sum();
    let left = me["included_left"].as_i64().unwrap();
    assert_eq!(left, (allowance + rows).max(0), "{me}");
    assert_eq!(me["sessions_used"].as_i64().unwrap(), -rows, "{me}");
    left
}

fn reason() -> Value {
    json!({"reason": "Something came up"})
}

/// A researcher readers may cancel until the start (no window), so the
/// refund tiers alone decide.
async fn researcher(app: &TestApp) -> Bookable {
    priced_researcher(app, 0).await
}

#[tokio::test]
async fn credits_come_back_on_each_path_and_stay_spent_on_a_late_cancel() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(0, 5)]).await;
    let app = &s.app;
    let r = researcher(app).await;
    let rid = r.researcher_id;
    let (reader, _, _) = subscribe(&s).await;
    assert_eq!(left(app, &reader, 5).await, 5);

    let declined = booked(app, &reader, rid, at("2026-12-10T10:00:00Z")).await;
    assert_eq!(left(app, &reader, 5).await, 4);
    acted(app, &r.token, declined, "decline", json!({})).await;
    assert_eq!(left(app, &reader, 5).await, 5);

    let by_researcher = booked(app, &reader, rid, at("2026-12-10T11:00:00Z")).await;
    acted(app, &r.token, by_researcher, "accept", json!({})).await;
    acted(app, &r.token, by_researcher, "cancel", reason()).await;
    assert_eq!(left(app, &reader, 5).await, 5);

    // 74 hours ahead: inside the 100 % tier (48 hours).
    let early = booked(app, &reader, rid, at("2026-12-10T12:00:00Z")).await;
    acted(app, &r.token, early, "accept", json!({})).await;
    acted(app, &reader, early, "cancel", reason()).await;
    assert_eq!(left(app, &reader, 5).await, 5);

    // 30 hours ahead: the 50 % tier, so the credit stays spent.
    let late = booked(app, &reader, rid, at("2026-12-08T14:00:00Z")).await;
    acted(app, &r.token, late, "accept", json!({})).await;
    acted(app, &reader, late, "cancel", reason()).await;
    assert_eq!(left(app, &reader, 5).await, 4);

    let before_accept = booked(app, &reader, rid, at("2026-12-12T10:00:00Z")).await;
    acted(app, &reader, before_accept, "cancel", reason()).await;
    assert_eq!(left(app, &reader, 5).await, 4);

    let unanswered = booked(app, &reader, rid, at("2026-12-11T10:00:00Z")).await;
    assert_eq!(left(app, &reader, 5).await, 3);
    app.clock.advance(Duration::hours(49));
    let report = colloquy::services::sessions::jobs::run(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(report.expired, 1);
    assert_eq!(left(app, &reader, 5).await, 4);

    let me = mine(app, &reader).await;
    let kinds: Vec<(i64, &str)> = me["credits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["session_id"].as_i64().unwrap(),
                c["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (declined, "spend"),
            (declined, "give_back"),
            (by_researcher, "spend"),
            (by_researcher, "give_back"),
            (early, "spend"),
            (early, "give_back"),
            (late, "spend"),
            (before_accept, "spend"),
            (before_accept, "give_back"),
            (unanswered, "spend"),
            (unanswered, "give_back"),
        ]
    );
    // No money moved for any of them.
    assert_eq!(
        calls(&s.stripe, "POST", "/v1/payment_intents").await.len(),
        0
    );
    assert_balanced(app);
}

/// What happens to a booked session in a random sequence.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Decline,
    ResearcherCancels,
    ReaderCancelsEarly,
    ReaderCancelsLate,
    ReaderCancelsRequest,
    StaysRequested,
    StaysAccepted,
}

impl Fate {
    const ALL: [Fate; 7] = [
        Fate::Decline,
        Fate::ResearcherCancels,
        Fate::ReaderCancelsEarly,
        Fate::ReaderCancelsLate,
        Fate::ReaderCancelsRequest,
        Fate::StaysRequested,
        Fate::StaysAccepted,
    ];

    /// Whether an included session comes back.
    fn gives_back(self) -> bool {
        matches!(
            self,
            Fate::Decline
                | Fate::ResearcherCancels
                | Fate::ReaderCancelsEarly
                | Fate::ReaderCancelsRequest
        )
    }

    fn accepted(self) -> bool {
        matches!(
            self,
            Fate::ResearcherCancels
                | Fate::ReaderCancelsEarly
                | Fate::ReaderCancelsLate
                | Fate::StaysAccepted
        )
    }
}

/// Starts for each kind of fate: a late cancellation needs a start less
/// than 48 hours away (the clock is Monday 7 December, 08:00 UTC).
struct Starts {
    late: Vec<DateTime<Utc>>,
    early: Vec<DateTime<Utc>>,
}

impl Starts {
    fn new() -> Self {
        let hours = |day: &str| {
            (9..17)
                .map(|h| at(&format!("{day}T{h:02}:00:00Z")))
                .collect::<Vec<_>>()
        };
        let mut early = Vec::new();
        for day in 10..17 {
            early.extend(hours(&format!("2026-12-{day}")));
        }
        Self {
            late: hours("2026-12-08"),
            early,
        }
    }
}

async fn run_sequence(seed: u64, steps: usize) {
    let allowance = 3;
    let s = spawn_stripe_app(|c| {
        c.plans = vec![plan(0, allowance)];
        c.payments.max_unpaid_requests = 100;
    })
    .await;
    let app = &s.app;
    let r = researcher(app).await;
    let (reader, _, _) = subscribe(&s).await;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut starts = Starts::new();
    let mut expected = allowance;
    for step in 0..steps {
        let mut fate = Fate::ALL[rng.gen_range(0..Fate::ALL.len())];
        if matches!(fate, Fate::ReaderCancelsLate) && starts.late.is_empty() {
            fate = Fate::StaysAccepted;
        }
        let pool = if matches!(fate, Fate::ReaderCancelsLate) {
            &mut starts.late
        } else {
            &mut starts.early
        };
        let start = pool.remove(rng.gen_range(0..pool.len()));
        let included = expected > 0;
        let id = booked(app, &reader, r.researcher_id, start).await;
        if included {
            expected -= 1;
        } else if fate.accepted() || matches!(fate, Fate::Decline | Fate::ResearcherCancels) {
            // A priced one reaches the researcher once its card is held.
            intent_ok(app, &reader, id).await;
            assert_eq!(delivered(app, &capturable(app, id)).await, "processed");
        }
        if fate.accepted() {
            acted(app, &r.token, id, "accept", json!({})).await;
        }
        match fate {
            Fate::Decline => {
                acted(app, &r.token, id, "decline", json!({})).await;
            }
            Fate::ResearcherCancels => {
                acted(app, &r.token, id, "cancel", reason()).await;
            }
            Fate::ReaderCancelsEarly | Fate::ReaderCancelsLate | Fate::ReaderCancelsRequest => {
                acted(app, &reader, id, "cancel", reason()).await;
            }
            Fate::StaysRequested | Fate::StaysAccepted => {}
        }
        if included && fate.gives_back() {
            expected += 1;
        }
        assert_eq!(
            left(app, &reader, allowance).await,
            expected,
            "seed {seed}, step {step}: {fate:?} (included: {included})"
        );
        assert_balanced(app);
    }
}

#[tokio::test]
async fn included_left_is_the_sum_of_the_rows_over_random_sequences() {
    for seed in [1, 2, 3] {
        run_sequence(seed, 14).await;
    }
}
