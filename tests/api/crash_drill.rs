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
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use colloquy::clock::SystemClock;
use colloquy::config::Config;
use colloquy::db::repos::researchers;
use colloquy::domain::availability::Rule;
use colloquy::domain::{Role, SessionId, UserId};
use colloquy::services::accounts::{self, Principal};
use colloquy::services::sessions::settings::{self, AvailabilityBody, SettingsBody};
use colloquy::state::AppState;
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::task::JoinSet;
use wiremock::MockServer;

use crate::smtp_sink::SmtpSink;
use crate::stripe_fakes::{mount_happy_stripe, signature, stripe_fixture, SECRET_KEY};

const PASSWORD: &str = "crash drill passphrase 2026";
const RESEARCHERS: usize = 50;
/// The last `PRICED` researchers charge, so their sessions wait for a
/// held card (a webhook) before the researcher hears of them. Most do:
/// the outbox delivers about 25 messages a second to the sink (each waits
/// out a delayed ACK), and every free booking queues one.
const PRICED: usize = 40;
const READERS: usize = 20;
/// Booking attempts per round, all at once (one connection each); every
/// tenth asks for a slot already asked for.
const ATTEMPTS: usize = 1000;
/// Priced sessions per round whose card is held (by webhook) during the load.
const HELD: usize = 30;

fn colloquy(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_colloquy"));
    c.arg("--config")
        .arg(config)
        .env_remove("COLLOQUY_CONFIG")
        .env("COLLOQUY__LOGGING__LEVEL", "warn");
    c
}

/// The server as a child process; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
}

impl Server {
    async fn start(config: &Path, log: &Path, base: &str) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = colloquy(config)
            .arg("serve")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut server = Server { child };
        let client = reqwest::Client::new();
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
                if r.status() == 200 {
                    return server;
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited at start: {status}");
            }
            assert!(Instant::now() < until, "the server did not answer /healthz");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_config(dir: &Path, port: u16, stripe: &str, smtp_port: u16) -> PathBuf {
    let path = dir.join("colloquy.toml");
    let data = dir.join("data");
    std::fs::write(
        &path,
        format!(
            r#"[server]
bind = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"

[storage]
data_dir = "{data}"

[security]
rate_limit_per_ip_per_minute = 10000000
rate_limit_per_user_per_minute = 10000000

[auth]
login_max_failures_per_ip = 1000000
access_token_ttl_secs = 86400

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "Colloquy <colloquy@uni.example>"
timeout_secs = 5
backoff_base_secs = 1
max_attempts = 20

[payments]
mode = "stripe"

[stripe]
secret_key = "{SECRET_KEY}"
webhook_secret = "{webhook}"
api_base_url = "{stripe}"
timeout_secs = 5

[jobs]
mail = "* * * * * *"
"#,
            data = data.display(),
            webhook = crate::stripe_fakes::WEBHOOK_SECRET,
        ),
    )
    .unwrap();
    path
}

/// Researchers (all day, every day, 30-minute sessions, no notice) and
/// readers who accepted the terms, made in-process before the server runs.
async fn seed_accounts(config: &Path) -> Vec<i64> {
    let config = Config::load(Some(config)).unwrap();
    let state = AppState::build(config, Arc::new(SystemClock)).unwrap();
    let now = state.now();
    let mut ids = Vec::with_capacity(RESEARCHERS);
    for i in 0..RESEARCHERS {
        let user = account(&state, &format!("researcher{i}@uni.example")).await;
        let id = state
            .db
            .write(move |tx| {
                let id = researchers::insert(tx, &format!("Researcher {i}"), None, None, now)?;
                researchers::claim(tx, id, user, now)?;
                Ok(id)
            })
            .await
            .unwrap();
        let who = Principal {
            user_id: user,
            role: Role::User,
            session_id: SessionId(0),
        };
        let body = SettingsBody {
            timezone: "UTC".into(),
            durations: vec![30],
            price_minor: if i >= RESEARCHERS - PRICED { 4000 } else { 0 },
            currency: "EUR".into(),
            min_notice_hours: 0,
            buffer_minutes: 0,
            max_per_day: 48,
            horizon_days: 60,
            request_ttl_hours: 48,
            cancel_window_hours: 24,
        };
        settings::put_settings(&state, &who, id, body)
            .await
            .unwrap();
        let rules = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .map(|d| Rule {
                weekday: (*d).into(),
                start: "00:00".into(),
                end: "24:00".into(),
            })
            .collect();
        let availability = AvailabilityBody {
            timezone: "UTC".into(),
            rules,
            exceptions: Vec::new(),
        };
        settings::put_availability(&state, &who, id, availability)
            .await
            .unwrap();
        ids.push(id.0);
    }
    for i in 0..READERS {
        account(&state, &format!("reader{i}@uni.example")).await;
    }
    ids
}

async fn account(state: &AppState, email: &str) -> UserId {
    let user = accounts::create_user_admin_cli(state, email, "Drill Person", PASSWORD, Role::User)
        .await
        .unwrap();
    crate::helpers::accept_terms_for(state, user.id, Role::User).await;
    user.id
}

async fn log_in(client: &reqwest::Client, base: &str, email: &str) -> String {
    let v: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    format!("Bearer {}", v["access_token"].as_str().unwrap())
}

fn slot(day: i64, half_hour: usize) -> DateTime<Utc> {
    let midnight = (Utc::now() + chrono::Duration::days(day))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    midnight + chrono::Duration::minutes(30 * half_hour as i64)
}

fn booking(researcher: i64, start: DateTime<Utc>) -> String {
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
fn held_event(session: i64, intent: &str) -> (String, String) {
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
async fn deliver(client: &reqwest::Client, base: &str, body: String) -> bool {
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
struct Acked {
    bookings: BTreeSet<i64>,
    /// event id → the session whose card it held
    webhooks: BTreeMap<String, i64>,
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
        let pi: Value = client
            .post(format!("{base}/api/v1/consulting/payments/intent"))
            .header("Authorization", token)
            .json(&json!({ "session_id": id }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
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

fn open_db(config: &Path) -> rusqlite::Connection {
    let config = Config::load(Some(config)).unwrap();
    // Read-write: FTS5's part of `integrity_check` needs it. Only reads.
    let db = rusqlite::Connection::open(config.database_path()).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db
}

fn count(db: &rusqlite::Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The one value `sql` finds for `param`.
fn value<T: rusqlite::types::FromSql>(
    db: &rusqlite::Connection,
    sql: &str,
    param: &dyn rusqlite::ToSql,
) -> T {
    db.query_row(sql, [param], |r| r.get(0)).unwrap()
}

/// The checks after a restart (the server up again, so it recovered the
/// file); panics with the round's seed on a failure.
fn check(config: &Path, acked: &Acked, seed: u64, round: usize) {
    let db = open_db(config);
    let context = format!("round {round}, seed {seed}");
    let ids: Vec<String> = acked.bookings.iter().map(i64::to_string).collect();
    let found = count(
        &db,
        &format!(
            "SELECT COUNT(*) FROM consulting_sessions WHERE id IN ({})",
            ids.join(",")
        ),
    );
    assert_eq!(
        found,
        ids.len() as i64,
        "acknowledged bookings lost ({context})"
    );
    for (event, session) in &acked.webhooks {
        let stored: i64 = value(
            &db,
            "SELECT COUNT(*) FROM webhook_events WHERE id = ?1",
            event,
        );
        assert_eq!(stored, 1, "acknowledged webhook {event} lost ({context})");
        let status: String = value(
            &db,
            "SELECT status FROM session_payments WHERE session_id = ?1",
            session,
        );
        assert_eq!(
            status, "authorized",
            "webhook {event} without its effect ({context})"
        );
    }
    let overlaps = count(
        &db,
        "SELECT COUNT(*) FROM consulting_sessions a
           JOIN consulting_sessions b
             ON b.researcher_id = a.researcher_id AND b.id > a.id
            AND b.start_at < a.end_at AND a.start_at < b.end_at
          WHERE a.status IN ('requested', 'accepted')
            AND b.status IN ('requested', 'accepted')",
    );
    assert_eq!(overlaps, 0, "double bookings ({context})");
    // Under the write lock: FTS5's part of the check writes, and a read
    // transaction cannot upgrade while the server writes.
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    db.execute_batch("ROLLBACK").unwrap();
    assert_eq!(integrity, "ok", "{context}");
    let out = colloquy(config).args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "audit verify ({context}): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A message's `Message-ID` header value.
fn message_id(message: &str) -> Option<&str> {
    let line = message
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))?;
    Some(line.split_once(':')?.1.trim())
}

/// The outbox row id in a `Message-ID` made by the sender
/// (`<tag.ID@domain>`).
fn outbox_id(message_id: &str) -> Option<i64> {
    let local = message_id.strip_prefix('<')?.split_once('@')?.0;
    local.rsplit_once('.')?.1.parse().ok()
}

/// Waits until nothing is queued, then checks that each outbox row was
/// received at least once, and only ever under its own `Message-ID`.
async fn check_mail(config: &Path, sink: &SmtpSink, seed: u64) -> (usize, usize) {
    let db = open_db(config);
    // The outbox sends about 25 a second to the sink: wait while it makes
    // progress, and fail only if it stops (30 s without a message sent).
    let sent_now = || {
        count(
            &db,
            "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'",
        )
    };
    let (mut last, mut moved) = (sent_now(), Instant::now());
    while count(
        &db,
        "SELECT COUNT(*) FROM mail_outbox WHERE status = 'queued'",
    ) > 0
    {
        let now_sent = sent_now();
        if now_sent != last {
            (last, moved) = (now_sent, Instant::now());
        }
        assert!(
            moved.elapsed() < Duration::from_secs(30),
            "mail stopped with messages queued (seed {seed}): {} sent, {} queued, {} received",
            now_sent,
            count(
                &db,
                "SELECT COUNT(*) FROM mail_outbox WHERE status = 'queued'"
            ),
            sink.received().len(),
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let failed = count(
        &db,
        "SELECT COUNT(*) FROM mail_outbox WHERE status <> 'sent'",
    );
    assert_eq!(failed, 0, "mail not delivered (seed {seed})");
    let mut sent: Vec<i64> = Vec::new();
    let mut stmt = db.prepare("SELECT id FROM mail_outbox").unwrap();
    for id in stmt.query_map([], |r| r.get(0)).unwrap() {
        sent.push(id.unwrap());
    }
    let mut received: BTreeMap<i64, usize> = BTreeMap::new();
    let mut ids_of: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for m in sink.received() {
        let header = message_id(&m.data).expect("every message has a Message-ID");
        let id = outbox_id(header).expect("the Message-ID is the sender's");
        *received.entry(id).or_default() += 1;
        ids_of.entry(id).or_default().insert(header.to_string());
    }
    for id in &sent {
        assert!(
            received.contains_key(id),
            "mail {id} never arrived (seed {seed})"
        );
    }
    assert_eq!(
        received.len(),
        sent.len(),
        "mail from nowhere (seed {seed})"
    );
    assert!(
        ids_of.values().all(|headers| headers.len() == 1),
        "a message arrived twice under two Message-IDs (seed {seed})"
    );
    let duplicates = received.values().map(|n| n - 1).sum();
    (sent.len(), duplicates)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_and_mail_is_delivered_once_per_message_id() {
    let runs: usize = std::env::var("CRASH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
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
