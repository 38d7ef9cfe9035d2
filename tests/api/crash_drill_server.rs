//! The crash drill's server (`tests/api/crash_drill.rs`): the real binary
//! as a child process on a configuration file, and the researchers and
//! readers seeded in-process before it starts.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use colloquy::clock::SystemClock;
use colloquy::config::Config;
use colloquy::db::repos::researchers;
use colloquy::domain::availability::Rule;
use colloquy::domain::{Role, SessionId, UserId};
use colloquy::services::accounts::{self, Principal};
use colloquy::services::sessions::settings::{self, AvailabilityBody, SettingsBody};
use colloquy::state::AppState;
use serde_json::{json, Value};

use crate::crash_drill::{PASSWORD, PRICED, READERS, RESEARCHERS};
use crate::stripe_fakes::SECRET_KEY;

/// `colloquy --config CONFIG`: this build's binary, or `SOAK_BIN` (the
/// soak runs the release build under load).
pub(crate) fn colloquy(config: &Path) -> Command {
    let bin = std::env::var("SOAK_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_colloquy").into());
    let mut c = Command::new(bin);
    c.arg("--config")
        .arg(config)
        .env_remove("COLLOQUY_CONFIG")
        .env("COLLOQUY__LOGGING__LEVEL", "warn");
    c
}

/// The server as a child process; killed (SIGKILL) when dropped.
pub(crate) struct Server {
    child: Child,
}

impl Server {
    pub(crate) async fn start(config: &Path, log: &Path, base: &str) -> Server {
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

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A number from the environment (`name`), or `default` when unset or
/// not a number.
pub(crate) fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn write_config(dir: &Path, port: u16, stripe: &str, smtp_port: u16) -> PathBuf {
    write_config_with_jobs(dir, port, stripe, smtp_port, "mail = \"* * * * * *\"\n")
}

/// `write_config` with `jobs` as the `[jobs]` table's lines.
pub(crate) fn write_config_with_jobs(
    dir: &Path,
    port: u16,
    stripe: &str,
    smtp_port: u16,
    jobs: &str,
) -> PathBuf {
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
# Twenty readers stand for a thousand: each books dozens of priced
# sessions a round without paying (the cap is lifted like the rate limits).
max_unpaid_requests = 10000

[stripe]
secret_key = "{SECRET_KEY}"
webhook_secret = "{webhook}"
api_base_url = "{stripe}"
timeout_secs = 5

[jobs]
{jobs}"#,
            data = data.display(),
            webhook = crate::stripe_fakes::WEBHOOK_SECRET,
        ),
    )
    .unwrap();
    path
}

/// Researchers (all day, every day, 30-minute sessions, no notice) and
/// readers who accepted the terms, made in-process before the server runs.
pub(crate) async fn seed_accounts(config: &Path) -> Vec<i64> {
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

pub(crate) async fn account(state: &AppState, email: &str) -> UserId {
    let user = accounts::create_user_admin_cli(state, email, "Drill Person", PASSWORD, Role::User)
        .await
        .unwrap();
    crate::helpers::accept_terms_for(state, user.id, Role::User).await;
    user.id
}

/// `POST {url}` with a JSON body (and a bearer `token`): the JSON answer.
pub(crate) async fn post(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> Value {
    let mut req = client.post(url).json(&body);
    if let Some(t) = token {
        req = req.header("Authorization", t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

pub(crate) async fn log_in(client: &reqwest::Client, base: &str, email: &str) -> String {
    let url = format!("{base}/api/v1/auth/login");
    let v = post(
        client,
        url,
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    format!("Bearer {}", v["access_token"].as_str().unwrap())
}
