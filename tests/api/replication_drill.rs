//! Continuous replication (issue 17, §5): `litestream replicate` follows a
//! live server's database and its per-subject keys while bookings run.
//! Then the machine "dies": Litestream and the server are killed with
//! `SIGKILL` together, and the data directory is deleted. On a fresh
//! directory, the keyring comes back from its own backup copy and both
//! databases from the replica (`litestream restore`). The restored server
//! must start, hold every booking acknowledged more than a second before
//! the kill, read their encrypted topics, and pass `integrity_check` and
//! `colloquy audit verify`.
//!
//! Skipped, with a message, when no `litestream` binary is found (`PATH`,
//! or `LITESTREAM=/path/to/litestream`); `.ci/run` installs one from the
//! npm package `@flydotio/litestream-linux-x64`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use colloquy::config::Config;
use serde_json::json;
use tokio::task::JoinSet;
use wiremock::MockServer;

use crate::crash_drill::{READERS, RESEARCHERS};
use crate::crash_drill_checks::{check, count, open_db};
use crate::crash_drill_server::{
    env_number, free_port, log_in, seed_accounts, write_config, Server,
};
use crate::smtp_sink::SmtpSink;
use crate::stripe_fakes::mount_happy_stripe;

/// How long bookings run under replication before the kill.
const LOAD: Duration = Duration::from_secs(4);
/// Clients booking at once during the load.
const CLIENTS: usize = 8;
/// Bookings a second during the load (`REPLICATION_RATE`; 0: as fast as
/// the server answers). 100 a second is thousands of times a university's
/// peak; unpaced, the server writes about 40 MB of WAL a second here and
/// the three processes starve each other of the two cores.
fn rate() -> u64 {
    env_number("REPLICATION_RATE", 100)
}
/// What the issue allows to be lost: bookings acknowledged within this
/// long before the kill.
const WINDOW: Duration = Duration::from_secs(1);

fn litestream() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("LITESTREAM") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("litestream"))
            .find(|p| p.is_file())
    })
}

/// The Litestream configuration of docs/operations.md, with a file replica
/// instead of S3: both databases, checked and shipped every 250 ms.
fn litestream_config(dir: &Path, data: &Path, replica: &Path) -> PathBuf {
    let path = dir.join("litestream.yml");
    let db = |name: &str, file: &Path| {
        format!(
            "  - path: {file}
    monitor-interval: 250ms
    replicas:
      - type: file
        path: {replica}
        sync-interval: 250ms
",
            file = file.display(),
            replica = replica.join(name).display(),
        )
    };
    let yaml = format!(
        "dbs:\n{}{}",
        db("colloquy", &data.join("colloquy.db")),
        db("subject_keys", &data.join("keys").join("subject_keys.db")),
    );
    std::fs::write(&path, yaml).unwrap();
    path
}

fn replicate(bin: &Path, config: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(bin)
        .args(["replicate", "-config"])
        .arg(config)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

/// `litestream restore` of the database at `source` (as the config names
/// it) into `target`.
fn restore(bin: &Path, config: &Path, source: &Path, target: &Path) {
    let out = Command::new(bin)
        .args(["restore", "-config"])
        .arg(config)
        .arg("-o")
        .arg(target)
        .arg(source)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "litestream restore {}: {}{}",
        source.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One acknowledged booking: the session, when the 201 came, and the
/// reader (index into the tokens) who booked it.
struct Booked {
    id: i64,
    at: Instant,
    reader: usize,
}

/// Books distinct slots from `CLIENTS` clients until `until`; every 201.
async fn book_until(
    base: &str,
    tokens: &[String],
    researchers: &[i64],
    until: Instant,
) -> Vec<Booked> {
    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut tasks = JoinSet::new();
    let rate = rate();
    for c in 0..CLIENTS {
        let (client, base, next) = (client.clone(), base.to_string(), next.clone());
        let token = tokens[c % READERS].clone();
        let researchers = researchers.to_vec();
        tasks.spawn(async move {
            let mut acked = Vec::new();
            let every = Duration::from_secs_f64(CLIENTS as f64 / rate.max(1) as f64);
            let mut pace = tokio::time::interval(every);
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while Instant::now() < until {
                if rate > 0 {
                    pace.tick().await;
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                let day = 1 + (k / (RESEARCHERS * 48)) as i64;
                let midnight = (Utc::now() + chrono::Duration::days(day))
                    .date_naive()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc();
                let start =
                    midnight + chrono::Duration::minutes(30 * ((k / RESEARCHERS) % 48) as i64);
                let body = json!({
                    "researcher_id": researchers[k % RESEARCHERS],
                    "start": start.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "duration_minutes": 30,
                    "topic": format!("Replicated question {k}"),
                });
                let r = client
                    .post(format!("{base}/api/v1/consulting/sessions"))
                    .header("Authorization", &token)
                    .json(&body)
                    .send()
                    .await;
                let Ok(r) = r else { break };
                let status = r.status().as_u16();
                let v: serde_json::Value = r.json().await.unwrap_or_default();
                assert_eq!(
                    status, 201,
                    "a booking of a free slot answered {status}: {v}"
                );
                acked.push(Booked {
                    id: v["id"].as_i64().unwrap(),
                    at: Instant::now(),
                    reader: c % READERS,
                });
            }
            acked
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done.unwrap());
    }
    all
}

fn private_copy(from: &Path, to: &Path) {
    let dir = to.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::copy(from, to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_litestream_replica_restores_every_booking_acknowledged_a_second_before_the_machine_died()
{
    let Some(bin) = litestream() else {
        println!(
            "skipped: no litestream binary (PATH or LITESTREAM); .ci/run installs it from the npm package @flydotio/litestream-linux-x64"
        );
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (old, fresh, replica, backups) = (
        root.path().join("old"),
        root.path().join("fresh"),
        root.path().join("replica"),
        root.path().join("backups"),
    );
    for d in [&old, &fresh, &replica, &backups] {
        std::fs::create_dir_all(d).unwrap();
    }
    let stripe = MockServer::start().await;
    mount_happy_stripe(&stripe).await;
    let sink = SmtpSink::start().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    // The old machine: accounts, the keyring's own backup, replication.
    let old_config = write_config(&old, port, &stripe.uri(), sink.port);
    let researchers = seed_accounts(&old_config).await;
    let old_data = Config::load(Some(&old_config)).unwrap().storage.data_dir;
    let keyring_backup = backups.join("keyring.json");
    private_copy(&old_data.join("keys").join("keyring.json"), &keyring_backup);
    let ls_config = litestream_config(root.path(), &old_data, &replica);
    let mut litestream = replicate(&bin, &ls_config, &root.path().join("litestream.log"));
    let mut server = Server::start(&old_config, &old.join("server.log"), &base).await;
    let client = reqwest::Client::new();
    let mut tokens = Vec::with_capacity(READERS);
    for i in 0..READERS {
        tokens.push(log_in(&client, &base, &format!("reader{i}@uni.example")).await);
    }

    // Bookings run; the machine dies in the middle of them.
    let until = Instant::now() + LOAD;
    let load = {
        let (base, tokens, researchers) = (base.clone(), tokens.clone(), researchers.clone());
        tokio::spawn(async move { book_until(&base, &tokens, &researchers, until + LOAD).await })
    };
    tokio::time::sleep_until(until.into()).await;
    let died = Instant::now();
    let _ = litestream.kill();
    server.kill();
    let _ = litestream.wait();
    let acked = load.await.unwrap();
    std::fs::remove_dir_all(&old_data).unwrap();

    // The fresh machine: the keyring from its backup, the databases from
    // the replica.
    let fresh_config = write_config(&fresh, port, &stripe.uri(), sink.port);
    let fresh_data = Config::load(Some(&fresh_config)).unwrap().storage.data_dir;
    private_copy(
        &keyring_backup,
        &fresh_data.join("keys").join("keyring.json"),
    );
    restore(
        &bin,
        &ls_config,
        &old_data.join("colloquy.db"),
        &fresh_data.join("colloquy.db"),
    );
    restore(
        &bin,
        &ls_config,
        &old_data.join("keys").join("subject_keys.db"),
        &fresh_data.join("keys").join("subject_keys.db"),
    );
    let server = Server::start(&fresh_config, &fresh.join("server.log"), &base).await;

    let db = open_db(&fresh_config);
    let (mut lost, mut oldest_lost) = (0usize, None::<Duration>);
    let mut kept_in_window = 0usize;
    for Booked { id, at, .. } in &acked {
        let found = count(
            &db,
            &format!("SELECT COUNT(*) FROM consulting_sessions WHERE id = {id}"),
        );
        let before_kill = died.saturating_duration_since(*at);
        if found == 0 {
            lost += 1;
            oldest_lost = oldest_lost.max(Some(before_kill));
        } else if before_kill <= WINDOW {
            kept_in_window += 1;
        }
    }
    let oldest = oldest_lost.unwrap_or_default();
    assert!(
        oldest <= WINDOW,
        "{lost} of {} acknowledged bookings are not in the replica, the oldest acknowledged {} ms before the kill; litestream said:\n{}",
        acked.len(),
        oldest.as_millis(),
        std::fs::read_to_string(root.path().join("litestream.log")).unwrap_or_default()
    );
    let in_window = acked
        .iter()
        .filter(|b| died.saturating_duration_since(b.at) <= WINDOW)
        .count();
    assert!(
        acked.len() > in_window,
        "no booking was acknowledged before the last second"
    );

    // The restored data reads: the keyring and subject keys fit it.
    let first = &acked[0];
    let reader = log_in(
        &client,
        &base,
        &format!("reader{}@uni.example", first.reader),
    )
    .await;
    let first = first.id;
    let session: serde_json::Value = client
        .get(format!("{base}/api/v1/consulting/sessions/{first}"))
        .header("Authorization", &reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        session["topic"]
            .as_str()
            .is_some_and(|t| t.starts_with("Replicated question")),
        "the restored session's topic does not decrypt: {session}"
    );
    check(&fresh_config, &Default::default(), 0, 0);
    drop(server);
    println!(
        "replication drill ({} bookings/s asked): {} bookings acknowledged over {} s; {} of the {} acknowledged in the last {} ms before the kill were replicated, {lost} lost (the oldest {} ms before the kill); 0 lost before that",
        rate(),
        acked.len(),
        LOAD.as_secs(),
        kept_in_window,
        in_window,
        WINDOW.as_millis(),
        oldest_lost.map_or(0, |d| d.as_millis()),
    );
}
