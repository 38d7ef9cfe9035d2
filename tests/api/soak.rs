//! The soak (issue 17, §6; not CI): `bash bench/soak.sh` runs the release
//! binary as a child process on `colloquy demo --scale 1` data plus 50
//! bookable researchers and 20 readers, and sends mixed traffic for
//! `SOAK_SECS` (600 by default):
//!
//! - reads: researcher and paper views, a paper's researcher list,
//!   full-text search, free slots and `/healthz`;
//! - bookings through their lifecycle: free sessions accepted, declined or
//!   cancelled; priced ones paid (intent, a signed held-payment webhook),
//!   captured on accept and refunded on cancel, all against a Stripe fake;
//! - log-ins (argon2id) twice a second;
//! - every job on a schedule of seconds, mail to a loopback SMTP sink.
//!
//! Every `SOAK_WINDOW_SECS` (60) it prints each route's count and p99, and
//! the server's RSS, open file descriptors and WAL size; at the end, the
//! totals and the growth from the first window to the last.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::task::JoinSet;
use wiremock::MockServer;

use crate::crash_drill::{booking, deliver, held_event, slot, PRICED, READERS, RESEARCHERS};
use crate::crash_drill_checks::{count, open_db};
use crate::crash_drill_server::{
    colloquy, env_number, free_port, log_in, seed_accounts, write_config_with_jobs, Server,
};
use crate::smtp_sink::SmtpSink;
use crate::soak_report::{gauge, report, Sample};
use crate::stripe_fakes::mount_happy_stripe;

/// Every job, on a schedule of seconds.
const JOBS: &str = r#"housekeeping = "*/20 * * * * *"
collection = "*/10 * * * * *"
refresh_stale = "*/30 * * * * *"
mail = "* * * * * *"
sessions = "*/5 * * * * *"
subscriptions = "*/15 * * * * *"
reviews = "*/15 * * * * *"
disputes = "*/15 * * * * *"
analytics = "*/30 * * * * *"
retention = "*/30 * * * * *"
"#;
const READ_CLIENTS: usize = 6;
const BOOKING_CLIENTS: usize = 3;

#[derive(Clone)]
struct Soak {
    client: reqwest::Client,
    base: String,
    started: Instant,
    samples: Arc<Mutex<Vec<Sample>>>,
    stop: Arc<AtomicBool>,
}

impl Soak {
    fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }

    /// Sends `req`, records it under `route`; the JSON answer (Null when
    /// the body is not JSON) and the status.
    async fn call(&self, route: &'static str, req: reqwest::RequestBuilder) -> (u16, Value) {
        let t = Instant::now();
        let (status, body) = match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        };
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Sample {
                route,
                at: self.started.elapsed().as_secs_f64(),
                ms: t.elapsed().as_secs_f64() * 1000.0,
                status,
            });
        (status, body)
    }

    fn get(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .header("Authorization", token)
    }

    fn post(&self, path: &str, token: &str, body: Value) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .header("Authorization", token)
            .json(&body)
    }
}

/// Ids and words the reads pick from: demo researchers, papers, and words
/// of the papers' titles.
struct Corpus {
    researchers: Vec<i64>,
    papers: Vec<i64>,
    words: Vec<String>,
}

fn corpus(db: &rusqlite::Connection) -> Corpus {
    let ids = |sql: &str| -> Vec<i64> {
        let mut stmt = db.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    let mut stmt = db.prepare("SELECT title FROM papers LIMIT 200").unwrap();
    let titles: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut words: Vec<String> = titles
        .iter()
        .flat_map(|t| t.split_whitespace())
        .filter(|w| w.len() > 5 && w.chars().all(char::is_alphabetic))
        .map(str::to_lowercase)
        .collect();
    words.sort();
    words.dedup();
    Corpus {
        researchers: ids("SELECT id FROM researchers ORDER BY id LIMIT 2000"),
        papers: ids("SELECT id FROM papers ORDER BY id LIMIT 1000"),
        words,
    }
}

async fn reads(soak: Soak, corpus: Arc<Corpus>, bookable: Vec<i64>, token: String, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let from = slot(1, 0).to_rfc3339();
    let to = slot(57, 0).to_rfc3339();
    while soak.running() {
        let (route, path) = match rng.gen_range(0..10) {
            0..=2 => {
                let id = corpus.researchers[rng.gen_range(0..corpus.researchers.len())];
                ("researcher", format!("/api/v1/researchers/{id}"))
            }
            3 | 4 => {
                let id = corpus.papers[rng.gen_range(0..corpus.papers.len())];
                ("paper", format!("/api/v1/papers/{id}"))
            }
            5 => {
                let id = corpus.papers[rng.gen_range(0..corpus.papers.len())];
                (
                    "paper researchers",
                    format!("/api/v1/consulting/researchers/{id}"),
                )
            }
            6 => {
                let q = &corpus.words[rng.gen_range(0..corpus.words.len())];
                ("search", format!("/api/v1/papers?q={q}&limit=20"))
            }
            7 => {
                let id = bookable[rng.gen_range(0..bookable.len())];
                let q = format!("from={from}&to={to}").replace('+', "%2B");
                (
                    "free slots",
                    format!("/api/v1/consulting/researchers/{id}/availability?{q}"),
                )
            }
            _ => ("healthz", "/healthz".to_string()),
        };
        soak.call(route, soak.get(&path, &token)).await;
    }
}

/// Bookings through their lifecycle, one after another, on slots no one
/// else asks for (`next` hands them out).
async fn bookings(
    soak: Soak,
    researchers: Vec<i64>,
    readers: Vec<String>,
    owners: Vec<String>,
    next: Arc<AtomicUsize>,
) {
    let capacity = RESEARCHERS * 48 * 56;
    while soak.running() {
        let k = next.fetch_add(1, Ordering::Relaxed);
        if k >= capacity {
            return;
        }
        let r = k % RESEARCHERS;
        let reader = &readers[k % READERS];
        let owner = &owners[r];
        let start = slot(2 + (k / (RESEARCHERS * 48)) as i64, (k / RESEARCHERS) % 48);
        let body: Value = serde_json::from_str(&booking(researchers[r], start)).unwrap();
        let (status, v) = soak
            .call(
                "book",
                soak.post("/api/v1/consulting/sessions", reader, body),
            )
            .await;
        let Some(id) = v["id"].as_i64().filter(|_| status == 201) else {
            continue;
        };
        let priced = r >= RESEARCHERS - PRICED;
        if priced {
            let intent = json!({ "session_id": id });
            let (_, pi) = soak
                .call(
                    "payment intent",
                    soak.post("/api/v1/consulting/payments/intent", reader, intent),
                )
                .await;
            let Some(intent) = pi["payment_intent_id"].as_str() else {
                continue;
            };
            let (_, event) = held_event(id, intent);
            let t = Instant::now();
            let ok = deliver(&soak.client, &soak.base, event).await;
            soak.samples
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Sample {
                    route: "webhook",
                    at: soak.started.elapsed().as_secs_f64(),
                    ms: t.elapsed().as_secs_f64() * 1000.0,
                    status: if ok { 200 } else { 0 },
                });
        }
        let at = |what: &str| format!("/api/v1/consulting/sessions/{id}/{what}");
        if k % 4 == 3 {
            soak.call(
                "decline",
                soak.post(&at("decline"), owner, json!({"reason": "Travelling"})),
            )
            .await;
            continue;
        }
        soak.call("accept", soak.post(&at("accept"), owner, json!({})))
            .await;
        if k.is_multiple_of(3) {
            soak.call(
                "cancel",
                soak.post(&at("cancel"), reader, json!({"reason": "Plans changed"})),
            )
            .await;
        }
        soak.call(
            "session",
            soak.get(&format!("/api/v1/consulting/sessions/{id}"), reader),
        )
        .await;
    }
}

async fn logins(soak: Soak) {
    let mut k = 0usize;
    while soak.running() {
        let email = format!("reader{}@uni.example", k % READERS);
        let body = json!({"email": email, "password": crate::crash_drill::PASSWORD});
        soak.call(
            "log-in",
            soak.client
                .post(format!("{}/api/v1/auth/login", soak.base))
                .json(&body),
        )
        .await;
        k += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a soak of minutes: bash bench/soak.sh"]
async fn soak_mixed_traffic_for_minutes_with_jobs_on_a_fast_schedule() {
    let secs: u64 = env_number("SOAK_SECS", 600);
    let window: u64 = env_number("SOAK_WINDOW_SECS", 60);
    let dir = tempfile::tempdir().unwrap();
    let stripe = MockServer::start().await;
    mount_happy_stripe(&stripe).await;
    let sink = SmtpSink::start().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = write_config_with_jobs(dir.path(), port, &stripe.uri(), sink.port, JOBS);
    let t = Instant::now();
    let demo = colloquy(&config)
        .args(["demo", "--scale", "1"])
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    println!("soak: demo --scale 1 in {:.0} s", t.elapsed().as_secs_f64());
    let researchers = seed_accounts(&config).await;
    let corpus = Arc::new(corpus(&open_db(&config)));
    let log = dir.path().join("server.log");
    let server = Server::start(&config, &log, &base).await;
    let wal = config.with_file_name("data").join("colloquy.db-wal");

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut readers = Vec::with_capacity(READERS);
    for i in 0..READERS {
        readers.push(log_in(&client, &base, &format!("reader{i}@uni.example")).await);
    }
    let mut owners = Vec::with_capacity(RESEARCHERS);
    for i in 0..RESEARCHERS {
        owners.push(log_in(&client, &base, &format!("researcher{i}@uni.example")).await);
    }
    let soak = Soak {
        client,
        base,
        started: Instant::now(),
        samples: Arc::default(),
        stop: Arc::default(),
    };
    println!("soak: {secs} s of mixed traffic, a line every {window} s");
    let mut gauges = vec![gauge(server.pid(), &wal, 0.0)];
    let mut tasks = JoinSet::new();
    for c in 0..READ_CLIENTS {
        let token = readers[c % READERS].clone();
        tasks.spawn(reads(
            soak.clone(),
            corpus.clone(),
            researchers.clone(),
            token,
            c as u64,
        ));
    }
    let next = Arc::new(AtomicUsize::new(0));
    for _ in 0..BOOKING_CLIENTS {
        tasks.spawn(bookings(
            soak.clone(),
            researchers.clone(),
            readers.clone(),
            owners.clone(),
            next.clone(),
        ));
    }
    tasks.spawn(logins(soak.clone()));
    let end = soak.started + Duration::from_secs(secs);
    while Instant::now() < end {
        let remaining = end.saturating_duration_since(Instant::now());
        tokio::time::sleep(remaining.min(Duration::from_secs(window))).await;
        gauges.push(gauge(
            server.pid(),
            &wal,
            soak.started.elapsed().as_secs_f64(),
        ));
    }
    soak.stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}

    let samples = std::mem::take(&mut *soak.samples.lock().unwrap_or_else(PoisonError::into_inner));
    report(&samples, &gauges[1..], window as f64);
    let errors = samples
        .iter()
        .filter(|s| s.status >= 500 || s.status == 0)
        .count();
    let db = open_db(&config);
    let (first, last) = (&gauges[1], &gauges[gauges.len() - 1]);
    println!(
        "soak: {} requests in {secs} s ({:.0}/s), {errors} 5xx or failed; RSS {:.1} MB at start, {:.1} MB after the first window, {:.1} MB at the end; fds {} → {}; WAL {} kB → {} kB; {} sessions booked, {} e-mails sent",
        samples.len(),
        samples.len() as f64 / secs as f64,
        gauges[0].rss_kb as f64 / 1024.0,
        first.rss_kb as f64 / 1024.0,
        last.rss_kb as f64 / 1024.0,
        first.fds,
        last.fds,
        first.wal_bytes / 1024,
        last.wal_bytes / 1024,
        next.load(Ordering::Relaxed),
        count(&db, "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'"),
    );
    assert_eq!(errors, 0, "5xx or failed requests during the soak");
    drop(server);
}
