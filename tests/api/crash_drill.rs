//! Crash safety (issue 17): the real `colloquy serve`, as a child process,
//! takes concurrent bookings over 50 researchers, Stripe webhooks for held
//! payments and mail to a loopback SMTP sink; it is killed with `SIGKILL`
//! at a random moment and started again on the same data directory, round
//! after round. After each restart:
//!
//! - every booking answered 201 and every webhook answered 200 is in the
//!   database, with its effect (the payment held);
//! - no two live sessions of a researcher overlap;
//! - `PRAGMA integrity_check` is `ok`, and `colloquy audit verify` passes.
//!
//! At the end every queued e-mail has been delivered. A message that was
//! in flight at a kill may arrive twice, always with the same `Message-ID`
//! (docs/operations.md, "Crashes").
//!
//! `CRASH_RUNS` rounds (5 by default; `bench/crash.sh` runs 20), with kill
//! points drawn from `CRASH_SEED` (printed; random when unset).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::task::JoinSet;
use wiremock::MockServer;

use crate::crash_drill_checks::{check, check_mail};
use crate::crash_drill_server::{
    env_number, free_port, log_in, post, seed_accounts, write_config, Server,
};
use crate::smtp_sink::SmtpSink;
use crate::stripe_fakes::{mount_happy_stripe, signature, stripe_fixture};

pub(crate) const PASSWORD: &str = "crash drill passphrase 2026";
pub(crate) const RESEARCHERS: usize = 50;
/// The last `PRICED` researchers charge, so their sessions wait for a
/// held card (a webhook) before the researcher hears of them. Most do:
/// the outbox delivers about 25 messages a second to the sink (each waits
/// out a delayed ACK), and every free booking queues one.
pub(crate) const PRICED: usize = 40;
pub(crate) const READERS: usize = 20;
/// Booking attempts per round, all at once (one connection each); every
/// tenth asks for a slot already asked for.
pub(crate) const ATTEMPTS: usize = 1000;
/// Priced sessions per round whose card is held (by webhook) during the load.
pub(crate) const HELD: usize = 30;

pub(crate) fn slot(day: i64, half_hour: usize) -> DateTime<Utc> {
    let midnight = (Utc::now() + chrono::Duration::days(day))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    midnight + chrono::Duration::minutes(30 * half_hour as i64)
}

pub(crate) fn booking(researcher: i64, start: DateTime<Utc>) -> String {
    json!({
        "researcher_id": researcher,
        "start": start.to_rfc3339_opts(SecondsFormat::Secs, true),
        "duration_minutes": 30,
        "topic": "Questions about the crash drill",
    })
    .to_string()
}

/// `POST /api/v1/consulting/sessions`: the session id when answered 201.
async fn book(client: &reqwest::Client, base: &str, token: &str, body: String) -> Option<i64> {
    let r = client
        .post(format!("{base}/api/v1/consulting/sessions"))
        .header("Authorization", token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    let v: Value = r.json().await.ok()?;
    assert!(
        status == 201 || status == 409,
        "a booking answered {status}: {v}"
    );
    (status == 201).then(|| v["id"].as_i64()).flatten()
}

/// A signed `payment_intent.amount_capturable_updated` for `intent`.
pub(crate) fn held_event(session: i64, intent: &str) -> (String, String) {
    let mut e = stripe_fixture("event_payment_intent_succeeded.json");
    let id = format!("evt_drill_held_{session}");
    e["id"] = json!(id);
    e["type"] = json!("payment_intent.amount_capturable_updated");
    e["created"] = json!(Utc::now().timestamp());
    let pi = &mut e["data"]["object"];
    pi["id"] = json!(intent);
    pi["status"] = json!("requires_capture");
    pi["capture_method"] = json!("manual");
    pi["amount"] = json!(4000);
    pi["amount_capturable"] = json!(4000);
    pi["metadata"] = json!({"session_id": session.to_string()});
    (id, e.to_string())
}

/// Delivers a webhook; true when answered 200.
pub(crate) async fn deliver(client: &reqwest::Client, base: &str, body: String) -> bool {
    let sig = signature(Utc::now().timestamp(), &body);
    match client
        .post(format!("{base}/api/v1/webhooks/stripe"))
        .header("Content-Type", "application/json")
        .header("Stripe-Signature", sig)
        .body(body)
        .send()
        .await
    {
        Ok(r) => {
            let status = r.status().as_u16();
            assert_eq!(status, 200, "a webhook answered {status}");
            r.bytes().await.is_ok()
        }
        Err(_) => false,
    }
}

/// One answer that acknowledged a write.
enum Ack {
    /// 201: the session's id
    Booking(i64),
    /// 200: the event's id and the session whose card it held
    Webhook(String, i64),
}

/// What the server acknowledged over all rounds.
#[derive(Default)]
pub(crate) struct Acked {
    pub(crate) bookings: BTreeSet<i64>,
    /// event id → the session whose card it held
    pub(crate) webhooks: BTreeMap<String, i64>,
}

/// One round's held payments: priced sessions booked and given an intent
/// while the server runs undisturbed. Returns (session, intent id).
async fn held_sessions(
    client: &reqwest::Client,
    base: &str,
    tokens: &[String],
    researchers: &[i64],
    round: usize,
    acked: &mut Acked,
) -> Vec<(i64, String)> {
    let mut out = Vec::with_capacity(HELD);
    for k in 0..HELD {
        let researcher = researchers[RESEARCHERS - PRICED + k % PRICED];
        let start = slot(30 + round as i64, 10 + k / PRICED);
        let token = &tokens[k % READERS];
        let id = book(client, base, token, booking(researcher, start))
            .await
            .expect("a held session's slot is free");
        acked.bookings.insert(id);
        let url = format!("{base}/api/v1/consulting/payments/intent");
        let pi = post(client, url, Some(token), json!({ "session_id": id })).await;
        let intent = pi["payment_intent_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no intent for session {id}: {pi}"))
            .to_string();
        out.push((id, intent));
    }
    out
}

/// 1,000 booking attempts and the held sessions' webhooks at once; the
/// server is killed `kill_after` into it. Every 201 and 200 is recorded.
#[allow(clippy::too_many_arguments)]
async fn load_and_kill(
    server: &mut Server,
    base: &str,
    tokens: &[String],
    researchers: &[i64],
    held: Vec<(i64, String)>,
    round: usize,
    kill_after: Duration,
    acked: &mut Acked,
) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(ATTEMPTS)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut tasks: JoinSet<Vec<Ack>> = JoinSet::new();
    for k in 0..ATTEMPTS {
        // Repeat the slot asked for five attempts before: a conflict.
        let j = if k % 10 == 9 { k - 5 } else { k };
        let researcher = researchers[j % RESEARCHERS];
        let body = booking(researcher, slot(1 + round as i64, j / RESEARCHERS));
        let (client, base) = (client.clone(), base.to_string());
        let token = tokens[k % READERS].clone();
        tasks.spawn(async move {
            let created = book(&client, &base, &token, body).await;
            created.into_iter().map(Ack::Booking).collect()
        });
    }
    {
        let (client, base) = (client.clone(), base.to_string());
        tasks.spawn(async move {
            let mut delivered = Vec::new();
            for (session, intent) in held {
                let (event, body) = held_event(session, &intent);
                if deliver(&client, &base, body).await {
                    delivered.push(Ack::Webhook(event, session));
                }
            }
            delivered
        });
    }
    tokio::time::sleep(kill_after).await;
    server.kill();
    while let Some(done) = tasks.join_next().await {
        for ack in done.unwrap() {
            match ack {
                Ack::Booking(id) => {
                    acked.bookings.insert(id);
                }
                Ack::Webhook(event, session) => {
                    acked.webhooks.insert(event, session);
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_and_mail_is_delivered_once_per_message_id() {
    let runs: usize = env_number("CRASH_RUNS", 5);
    let seed: u64 = env_number("CRASH_SEED", rand::random());
    println!("crash drill: {runs} rounds, CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);

    let dir = tempfile::tempdir().unwrap();
    let stripe = MockServer::start().await;
    mount_happy_stripe(&stripe).await;
    let sink = SmtpSink::start().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = write_config(dir.path(), port, &stripe.uri(), sink.port);
    let log = dir.path().join("server.log");
    let researchers = seed_accounts(&config).await;

    let client = reqwest::Client::new();
    let mut acked = Acked::default();
    let mut server = Server::start(&config, &log, &base).await;
    let mut tokens = Vec::with_capacity(READERS);
    for i in 0..READERS {
        tokens.push(log_in(&client, &base, &format!("reader{i}@uni.example")).await);
    }
    for round in 0..runs {
        let held = held_sessions(&client, &base, &tokens, &researchers, round, &mut acked).await;
        // Within the burst (about a second on the debug build), or just after.
        let kill_after = Duration::from_millis(rng.gen_range(20..1200));
        let before = (acked.bookings.len(), acked.webhooks.len());
        load_and_kill(
            &mut server,
            &base,
            &tokens,
            &researchers,
            held,
            round,
            kill_after,
            &mut acked,
        )
        .await;
        server = Server::start(&config, &log, &base).await;
        check(&config, &acked, seed, round);
        println!(
            "round {round}: killed after {} ms; acknowledged {} bookings and {} webhooks, lost 0",
            kill_after.as_millis(),
            acked.bookings.len() - before.0,
            acked.webhooks.len() - before.1,
        );
    }
    let (mails, duplicates) = check_mail(&config, &sink, seed).await;
    drop(server);
    println!(
        "crash drill: {} bookings and {} webhooks acknowledged, 0 lost, 0 double bookings; {mails} e-mails delivered, {duplicates} delivered twice (same Message-ID)",
        acked.bookings.len(),
        acked.webhooks.len(),
    );
}
