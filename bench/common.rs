//! Helpers shared by the benchmarks (included with `#[path]`).

use std::time::Duration;

/// The allocator the `colloquy` binary uses (`src/main.rs`), so that a
/// bench that runs the app in its own process measures what production
/// runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The `p` quantile (0.0–1.0) of sorted latencies.
#[allow(dead_code)]
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A number from the environment, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Milliseconds, for printing.
#[allow(dead_code)]
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The real server on a loopback port with a fresh database in `dir`:
/// its base URL and state. The per-IP and per-user rate limits are lifted
/// (one load generator stands for many clients); logging is at `warn`.
#[allow(dead_code)]
pub async fn start_server(
    dir: &std::path::Path,
) -> Result<(String, colloquy::state::AppState), Box<dyn std::error::Error>> {
    start_server_with(dir, |_| {}).await
}

/// `start_server` with a change to the configuration first.
#[allow(dead_code)]
pub async fn start_server_with(
    dir: &std::path::Path,
    tweak: impl FnOnce(&mut colloquy::config::Config),
) -> Result<(String, colloquy::state::AppState), Box<dyn std::error::Error>> {
    let mut config = colloquy::config::Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.data_dir = dir.to_path_buf();
    config.security.rate_limit_per_ip_per_minute = u32::MAX;
    config.security.rate_limit_per_user_per_minute = u32::MAX;
    config.logging.level = "warn".into();
    tweak(&mut config);
    let app = colloquy::startup::Application::build(
        config,
        std::sync::Arc::new(colloquy::clock::SystemClock),
    )
    .await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped(false));
    Ok((base, state))
}

/// Makes an account as an operator does (`colloquy user create`) and
/// accepts the current terms and privacy notice for it, as its owner would
/// at the first request (without this, every API call answers 403
/// `terms_not_accepted`).
#[allow(dead_code)]
pub async fn operator_account(
    state: &colloquy::state::AppState,
    email: &str,
    name: &str,
    password: &str,
    role: colloquy::domain::Role,
) -> Result<(), Box<dyn std::error::Error>> {
    use colloquy::domain::{ConsentSource, LegalDocument};
    let account =
        colloquy::services::accounts::create_user_admin_cli(state, email, name, password, role)
            .await?;
    let who = colloquy::services::accounts::Principal {
        user_id: account.id,
        role,
        session_id: colloquy::domain::SessionId(0),
    };
    let inst = &state.config.institution;
    for (document, version) in [
        (LegalDocument::Terms, &inst.terms_version),
        (LegalDocument::PrivacyNotice, &inst.privacy_version),
    ] {
        colloquy::services::consents::accept(
            state,
            &who,
            document,
            version,
            ConsentSource::Account,
            None,
        )
        .await?;
    }
    Ok(())
}

/// Logs in through the API; the access token (empty when refused).
#[allow(dead_code)]
pub async fn token(
    client: &reqwest::Client,
    base: &str,
    password: &str,
    email: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    Ok(login["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}
