//! The `colloquy` binary itself, run as an admin would.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary, run in `dir` with no config from the environment.
pub fn colloquy(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_colloquy"));
    c.current_dir(dir)
        .env_remove("COLLOQUY_CONFIG")
        .env("COLLOQUY__LOGGING__LEVEL", "warn");
    c
}

/// Runs it: (success, standard output then standard error).
pub fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn create_user(dir: &std::path::Path, email: &str, role: &str, password: &str) -> (bool, String) {
    let mut child = colloquy(dir)
        .args([
            "user",
            "create",
            "--email",
            email,
            "--name",
            "Cli User",
            "--role",
            role,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn config_check_prints_the_effective_config_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "[providers.openalex]\napi_key = \"oa-secret-123\"\n",
    )
    .unwrap();
    let (ok, out) = run(colloquy(dir.path())
        .args(["--config", "c.toml", "config", "check"])
        .env("COLLOQUY__SERVER__BIND", "127.0.0.1:9000"));
    assert!(ok, "{out}");
    assert!(out.contains("bind = \"127.0.0.1:9000\""), "{out}");
    assert!(
        out.contains("[redacted]") && !out.contains("oa-secret-123"),
        "{out}"
    );
    // The plain seed-era name works too.
    let (ok, out) = run(colloquy(dir.path())
        .args(["config", "check"])
        .env("OPENALEX_API_KEY", "plain-secret"));
    assert!(ok && out.contains("api_key = \"[redacted]\""), "{out}");
    // COLLOQUY_CONFIG names the file as well as --config.
    let (ok, out) = run(colloquy(dir.path())
        .args(["config", "check"])
        .env("COLLOQUY_CONFIG", "c.toml"));
    assert!(ok && out.contains("[redacted]"), "{out}");
}

#[test]
fn unknown_config_keys_and_bad_values_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), "[server]\nbindd = \"x\"\n").unwrap();
    let (ok, out) = run(colloquy(dir.path()).args(["--config", "c.toml", "config", "check"]));
    assert!(!ok && out.contains("bindd"), "{out}");
    let (ok, out) = run(colloquy(dir.path())
        .args(["config", "check"])
        .env("COLLOQUY__SERVER__BIND", "nonsense"));
    assert!(!ok && out.contains("server.bind"), "{out}");
    let (ok, out) = run(colloquy(dir.path())
        .args(["config", "check"])
        .env("COLLOQUY__JOBS__HOUSEKEEPING", "every tuesday"));
    assert!(!ok && out.contains("jobs.housekeeping"), "{out}");
    let (ok, out) = run(colloquy(dir.path())
        .args(["config", "check"])
        .env("COLLOQUY__NOPE__X", "1"));
    assert!(!ok && out.contains("nope"), "{out}");
    let (ok, out) = run(colloquy(dir.path()).args(["--config", "missing.toml", "config", "check"]));
    assert!(!ok && out.contains("does not exist"), "{out}");
}

#[test]
fn user_create_demo_backup_audit_and_rotation_work_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = run(colloquy(dir.path()).arg("migrate"));
    assert!(ok, "{out}");
    let (ok, out) = create_user(
        dir.path(),
        "root@uni.edu",
        "admin",
        "a long admin passphrase",
    );
    assert!(ok && out.contains("created admin account"), "{out}");
    let (ok, out) = create_user(dir.path(), "weak@uni.edu", "user", "short");
    assert!(!ok && out.contains("password"), "{out}");

    let (ok, out) = run(colloquy(dir.path()).arg("demo"));
    assert!(ok && out.contains("20 papers added"), "{out}");
    let (ok, out) = run(colloquy(dir.path()).arg("demo"));
    assert!(
        ok && out.contains("0 papers added, 20 already there"),
        "{out}"
    );

    let (ok, out) = run(colloquy(dir.path()).args(["audit", "verify"]));
    assert!(ok && out.contains("audit trail intact"), "{out}");

    let (ok, out) = run(colloquy(dir.path()).args(["keys", "rotate"]));
    assert!(
        ok && out.contains("subject keys: 1/1") && out.contains("new primary key k2"),
        "{out}"
    );
    let (ok, out) = run(colloquy(dir.path()).args(["keys", "drop-old"]));
    assert!(ok && out.contains("dropped old keys: k1"), "{out}");
    let (ok, out) = run(colloquy(dir.path()).args(["keys", "drop-old"]));
    assert!(ok && out.contains("no old keys to drop"), "{out}");
    let (ok, out) = run(colloquy(dir.path()).args(["keys", "rotate", "--drop-old"]));
    assert!(
        ok && out.contains("new primary key k3") && out.contains("dropped old keys: k2"),
        "{out}"
    );
    let keyring = std::fs::read_to_string(dir.path().join("data/keys/keyring.json")).unwrap();
    assert!(keyring.contains("\"k3\"") && !keyring.contains("\"k2\""));
    // Everything still reads with only the newest key: log-in needs the e-mail.
    let (ok, out) = create_user(
        dir.path(),
        "root@uni.edu",
        "user",
        "another long passphrase",
    );
    assert!(!ok && out.contains("already exists"), "{out}");

    let backup = dir.path().join("backup.db");
    let (ok, out) = run(colloquy(dir.path()).args(["backup", backup.to_str().unwrap()]));
    assert!(ok, "{out}");
    let conn = rusqlite::Connection::open(&backup).unwrap();
    let papers: i64 = conn
        .query_row("SELECT COUNT(*) FROM papers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(papers, 20);
    let (ok, out) = run(colloquy(dir.path()).args(["backup", backup.to_str().unwrap()]));
    assert!(!ok && out.contains("exists"), "{out}");

    // Tampering is reported with a non-zero exit.
    let db = rusqlite::Connection::open(dir.path().join("data/colloquy.db")).unwrap();
    db.execute_batch(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET action = 'forged' WHERE id = 1;",
    )
    .unwrap();
    let (ok, out) = run(colloquy(dir.path()).args(["audit", "verify"]));
    assert!(!ok && out.contains("BROKEN at row 1"), "{out}");
}

#[test]
fn serve_with_no_config_file_answers_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let start = Instant::now();
    let mut child = colloquy(dir.path())
        .arg("serve")
        .env("COLLOQUY__SERVER__BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut answered = false;
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Read;
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut resp = String::new();
            let _ = s.read_to_string(&mut resp);
            answered = resp.starts_with("HTTP/1.1 200") && resp.contains("\"ok\"");
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(answered, "no /healthz answer");
    assert!(dir.path().join("data/colloquy.db").exists());
    assert!(dir.path().join("data/keys/keyring.json").exists());
}

#[test]
fn export_writes_a_dataset_to_a_file_or_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = create_user(
        dir.path(),
        "root@uni.example",
        "admin",
        "a long enough passphrase 1",
    );
    assert!(ok, "{out}");
    let (ok, out) = run(colloquy(dir.path()).args(["export", "users", "--out", "users.csv"]));
    assert!(ok, "{out}");
    assert!(out.contains("export written to users.csv"), "{out}");
    let body = std::fs::read_to_string(dir.path().join("users.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(body.as_bytes());
    assert_eq!(&rd.headers().unwrap()[2], "email");
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][2], "root@uni.example");
    // The file is not overwritten; NDJSON goes to standard output.
    let (ok, out) = run(colloquy(dir.path()).args(["export", "users", "--out", "users.csv"]));
    assert!(!ok && out.contains("exists"), "{out}");
    let (ok, out) = run(colloquy(dir.path()).args(["export", "users", "--format", "json"]));
    assert!(
        ok && out.contains("\"email\":\"root@uni.example\""),
        "{out}"
    );
    let (ok, out) = run(colloquy(dir.path()).args(["export", "everything"]));
    assert!(!ok && out.contains("dataset: must be one of"), "{out}");
}

#[test]
fn demo_scale_generates_a_data_set_and_refuses_to_add_to_sessions_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let scale = [
        "demo",
        "--scale",
        "--researchers",
        "10",
        "--readers",
        "50",
        "--sessions",
        "100",
        "--seed",
        "9",
    ];
    let out = colloquy(dir.path()).args(scale).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    // One summary line on stdout, progress on stderr.
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("generated 10 researchers (7 bookable), 50 readers")
            && stdout.contains(" 100 sessions "),
        "{stdout}"
    );
    assert!(stderr.contains("sessions: 100/100"), "{stderr}");
    let sessions = || {
        let db = rusqlite::Connection::open(dir.path().join("data/colloquy.db")).unwrap();
        db.query_row("SELECT count(*) FROM consulting_sessions", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
    };
    assert_eq!(sessions(), 100);
    // A database with sessions is refused, and nothing changes.
    let (ok, out) = run(colloquy(dir.path()).args(scale));
    assert!(
        !ok && out.contains("already has 100 sessions") && out.contains("--force"),
        "{out}"
    );
    assert_eq!(sessions(), 100);
    // With --force it adds a second set beside the first.
    let (ok, out) = run(colloquy(dir.path()).args(scale).arg("--force"));
    assert!(ok, "{out}");
    assert_eq!(sessions(), 200);
    // The sizes only go with --scale.
    let (ok, out) = run(colloquy(dir.path()).args(["demo", "--sessions", "5"]));
    assert!(!ok && out.contains("--scale"), "{out}");
}

#[test]
fn retention_dry_run_prints_what_would_go_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "[retention]\nunclaimed_profiles_days = 0\n",
    )
    .unwrap();
    let (ok, out) = run(colloquy(dir.path()).args(["--config", "c.toml", "migrate"]));
    assert!(ok, "{out}");
    let now = chrono::Utc::now();
    let old = colloquy::db::ts(now - chrono::Duration::days(100));
    let recent = colloquy::db::ts(now - chrono::Duration::days(80));
    {
        let db = rusqlite::Connection::open(dir.path().join("data/colloquy.db")).unwrap();
        for at in [&old, &recent] {
            db.execute(
                "INSERT INTO mail_outbox (template, recipient_enc, recipient_bidx, content_enc, status,
                   next_attempt_at, created_at, updated_at)
                 VALUES ('test_message', 'v1:x:y', 'bidx', 'v1:x:z', 'sent', ?1, ?1, ?1)",
                [at],
            )
            .unwrap();
        }
        db.execute(
            "INSERT INTO researchers (name, collected_at, created_at, updated_at) VALUES ('Old One', ?1, ?1, ?1)",
            [colloquy::db::ts(now - chrono::Duration::days(3000))],
        )
        .unwrap();
    }
    let state = |dir: &std::path::Path| -> (i64, i64, i64) {
        let db = rusqlite::Connection::open(dir.join("data/colloquy.db")).unwrap();
        let q = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        (
            q("SELECT COUNT(*) FROM mail_outbox WHERE content_removed_at IS NULL AND content_enc = 'v1:x:z'"),
            q("SELECT COUNT(*) FROM researchers"),
            q("SELECT COUNT(*) FROM audit_log WHERE action = 'retention.run'"),
        )
    };

    let (ok, out) =
        run(colloquy(dir.path()).args(["--config", "c.toml", "retention", "--dry-run"]));
    assert!(ok, "{out}");
    assert!(out.contains("dry run: nothing was changed"), "{out}");
    let mail = out
        .lines()
        .find(|l| l.starts_with("mail_bodies"))
        .expect("a mail line");
    assert!(mail.contains(" 1 rows would go"), "{out}");
    assert!(mail.contains(&format!("oldest {}", &old[..10])), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("unclaimed_profiles") && l.contains("kept forever")),
        "{out}"
    );
    assert_eq!(state(dir.path()), (2, 1, 0), "a dry run changes nothing");

    let (ok, out) = run(colloquy(dir.path()).args(["--config", "c.toml", "retention"]));
    assert!(ok, "{out}");
    assert!(out.contains("1 rows went"), "{out}");
    assert_eq!(state(dir.path()), (1, 1, 1));
}

/// Runs `serve` until it exits (or 20 s, then kills it): (exited with
/// success, output). A server that starts would run until killed.
fn serve_exit(dir: &std::path::Path, port: u16) -> (Option<bool>, String) {
    let log = dir.join("serve.log");
    let file = std::fs::File::create(&log).unwrap();
    let mut child = colloquy(dir)
        .arg("serve")
        .env("COLLOQUY__SERVER__BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status.success());
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, std::fs::read_to_string(&log).unwrap_or_default())
}

/// Starts `serve` on `port` and registers `email` over HTTP (its audit row
/// seals the caller's IP); the server keeps running.
async fn serve_and_register(dir: &std::path::Path, port: u16, email: &str) -> std::process::Child {
    let mut child = colloquy(dir)
        .arg("serve")
        .env("COLLOQUY__SERVER__BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let start = Instant::now();
    let status = loop {
        let sent = client
            .post(format!("http://127.0.0.1:{port}/api/v1/auth/register"))
            .json(&serde_json::json!({"email": email, "password": "a long enough passphrase", "name": "Drill", "accept_terms": true}))
            .send()
            .await;
        if let Ok(r) = sent {
            break Some(r.status().as_u16());
        }
        if start.elapsed() > Duration::from_secs(20) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    if status != Some(201) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("registering {email} over HTTP answered {status:?}");
    }
    child
}

#[tokio::test]
async fn a_missing_or_foreign_keyring_stops_start_up_with_what_to_restore() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = dir.path().join("data/keys/keyring.json");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // An account registered over HTTP: its audit row seals the caller's IP.
    let mut child = serve_and_register(dir.path(), port, "ada@uni.example").await;
    let _ = child.kill();
    let _ = child.wait();
    let original = std::fs::read_to_string(&keyring).unwrap();

    // The keyring is gone: no new one is made for the old data.
    std::fs::remove_file(&keyring).unwrap();
    let (exited, out) = serve_exit(dir.path(), port);
    assert_eq!(exited, Some(false), "{out}");
    assert!(
        out.contains("keyring") && out.contains("is missing"),
        "{out}"
    );
    assert!(out.contains("Restore keys/keyring.json"), "{out}");
    assert!(!keyring.exists(), "a new keyring was made");
    let (ok, out) = run(colloquy(dir.path()).args(["audit", "verify"]));
    assert!(!ok && out.contains("is missing"), "{out}");

    // Another installation's keyring: refused as well.
    let (ok, foreign) = run(colloquy(dir.path()).args(["keys", "generate"]));
    assert!(ok, "{foreign}");
    std::fs::write(&keyring, foreign.trim()).unwrap();
    let (exited, out) = serve_exit(dir.path(), port);
    assert_eq!(exited, Some(false), "{out}");
    assert!(
        out.contains("this keyring cannot read the database"),
        "{out}"
    );

    // A corrupt keyring: a clear error too.
    std::fs::write(&keyring, "{ not json").unwrap();
    let (exited, out) = serve_exit(dir.path(), port);
    assert_eq!(exited, Some(false), "{out}");
    assert!(out.to_lowercase().contains("keyring"), "{out}");

    // Its own keyring back: it starts and the chain verifies.
    std::fs::write(&keyring, original).unwrap();
    let (ok, out) = run(colloquy(dir.path()).args(["audit", "verify"]));
    assert!(ok && out.contains("audit trail intact"), "{out}");
}

fn user_count(dir: &std::path::Path) -> i64 {
    let db = rusqlite::Connection::open(dir.join("data/colloquy.db")).unwrap();
    db.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .unwrap()
}

/// The drill: data, a backup, more data, a restore; the state is the
/// backup's again. Refused while a server runs, for a damaged file and for
/// a keyring that cannot read the backup; the replaced database is kept.
#[tokio::test]
async fn restore_puts_a_checked_backup_back_and_keeps_the_old_database() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (ok, out) = create_user(
        dir.path(),
        "ada@uni.example",
        "admin",
        "restore drill pass 1",
    );
    assert!(ok, "{out}");
    // A second account over HTTP, so the audit trail holds a sealed IP.
    let mut server = serve_and_register(dir.path(), port, "grace@uni.example").await;

    // While the server runs: a backup works, a restore and a second server do not.
    let backup = dir.path().join("backup.db");
    let (ok, out) = run(colloquy(dir.path()).arg("backup").arg(&backup));
    assert!(ok, "{out}");
    let (ok, out) = run(colloquy(dir.path()).arg("restore").arg(&backup));
    assert!(!ok && out.contains("a Colloquy server is running"), "{out}");
    let (exited, out) = serve_exit(dir.path(), port);
    assert_eq!(exited, Some(false), "{out}");
    assert!(out.contains("cannot start"), "{out}");
    let _ = server.kill();
    let _ = server.wait();

    // Changes after the backup.
    let (ok, out) = create_user(
        dir.path(),
        "later@uni.example",
        "user",
        "restore drill pass 2",
    );
    assert!(ok, "{out}");
    assert_eq!(user_count(dir.path()), 3);

    // A damaged backup changes nothing.
    let damaged = dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&backup).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 2..] {
        *b = 0x5a;
    }
    std::fs::write(&damaged, bytes).unwrap();
    let (ok, out) = run(colloquy(dir.path()).arg("restore").arg(&damaged));
    assert!(!ok && out.contains("nothing was changed"), "{out}");
    assert_eq!(user_count(dir.path()), 3);

    // Another installation's keyring cannot read the backup: refused.
    let keyring = dir.path().join("data/keys/keyring.json");
    let own = std::fs::read_to_string(&keyring).unwrap();
    let other = tempfile::tempdir().unwrap();
    let (ok, foreign) = run(colloquy(other.path()).args(["keys", "generate"]));
    assert!(ok);
    std::fs::write(&keyring, foreign.trim()).unwrap();
    let (ok, out) = run(colloquy(dir.path()).arg("restore").arg(&backup));
    assert!(!ok && out.contains("cannot read"), "{out}");
    std::fs::write(&keyring, own).unwrap();
    assert_eq!(user_count(dir.path()), 3);

    // The restore: the backup's state, the old database aside.
    let (ok, out) = run(colloquy(dir.path()).arg("restore").arg(&backup));
    assert!(ok, "{out}");
    assert!(out.contains("kept at"), "{out}");
    assert_eq!(user_count(dir.path()), 2);
    let aside: Vec<_> = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.starts_with("colloquy.db.before-restore-")
                && !n.ends_with("-wal")
                && !n.ends_with("-shm")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    let old = rusqlite::Connection::open(dir.path().join("data").join(&aside[0])).unwrap();
    let kept: i64 = old
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 3);
    let (ok, out) = run(colloquy(dir.path()).args(["audit", "verify"]));
    assert!(ok && out.contains("audit trail intact"), "{out}");
    // And it serves again.
    let (ok, out) = create_user(
        dir.path(),
        "after@uni.example",
        "user",
        "restore drill pass 3",
    );
    assert!(ok, "{out}");
    assert_eq!(user_count(dir.path()), 3);
}
