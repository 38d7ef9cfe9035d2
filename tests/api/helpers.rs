//! `spawn_app()` and one helper per endpoint.

use std::sync::Arc;

use colloquy::clock::ManualClock;
use colloquy::config::{Config, Secret};
use colloquy::startup::Application;
use colloquy::state::AppState;
use serde_json::{json, Value};
use wiremock::MockServer;

pub const PASSWORD: &str = "correct horse battery staple 42";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: ManualClock,
    pub openalex: MockServer,
    pub firecrawl: MockServer,
    pub rocketreach: MockServer,
    pub tavily: MockServer,
    /// Before `dir` goes: fields drop in order.
    pub _ledger_check: LedgerCheck,
    pub dir: tempfile::TempDir,
}

/// When an app with payments on goes away, its ledger must balance,
/// whatever the test was about (`payments_ledger::assert_balanced_in`):
/// every money scenario is checked for it. (Apps with payments off only
/// ever hold ledger rows a test wrote by hand.)
pub struct LedgerCheck(Option<std::path::PathBuf>);

impl LedgerCheck {
    fn of(config: &Config) -> Self {
        let on = config.payments.mode == colloquy::config::PaymentsMode::Stripe;
        Self(on.then(|| config.database_path()))
    }
}

impl Drop for LedgerCheck {
    fn drop(&mut self) {
        if let Some(db) = self.0.as_ref().filter(|p| p.exists()) {
            if !std::thread::panicking() {
                crate::payments_ledger::assert_balanced_in(&rusqlite_conn(db));
            }
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let openalex = MockServer::start().await;
    let firecrawl = MockServer::start().await;
    let rocketreach = MockServer::start().await;
    let tavily = MockServer::start().await;
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.data_dir = dir.path().to_path_buf();
    config.security.rate_limit_per_ip_per_minute = 100_000;
    config.security.rate_limit_per_user_per_minute = 100_000;
    config.providers.openalex.base_url = openalex.uri();
    config.providers.openalex.timeout_secs = 2;
    // Paid providers point at their fakes; a fake with no mocks answers 404.
    config.providers.firecrawl.api_key = Secret::new("fc-test");
    config.providers.firecrawl.base_url = firecrawl.uri();
    config.providers.rocketreach.api_key = Secret::new("rr-test");
    config.providers.rocketreach.base_url = rocketreach.uri();
    config.providers.tavily.api_key = Secret::new("tvly-test");
    config.providers.tavily.base_url = tavily.uri();
    // Fast retries and polling, so failure cases finish quickly.
    config.collection.backoff_base_ms = 10;
    config.collection.rocketreach_poll_interval_ms = 20;
    config.collection.rocketreach_max_wait_secs = 2;
    config.collection.max_retry_wait_secs = 5;
    config.jobs.housekeeping = String::new();
    tweak(&mut config);
    let clock = ManualClock::new(chrono::Utc::now());
    let app = Application::build(config, Arc::new(clock.clone()))
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped(false));
    let ledger_check = LedgerCheck::of(&state.config);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        state,
        clock,
        openalex,
        firecrawl,
        rocketreach,
        tavily,
        _ledger_check: ledger_check,
        dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        self.send_json(reqwest::Method::POST, path, token, body)
            .await
    }

    pub async fn register(&self, email: &str, name: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/register",
            None,
            &json!({"email": email, "password": PASSWORD, "name": name, "accept_terms": true}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Registers and logs in; returns the token answer.
    pub async fn signed_in(&self, email: &str) -> Value {
        let r = self.register(email, "Test Reader").await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let r = self.login(email, PASSWORD).await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn token(&self, email: &str) -> String {
        self.signed_in(email).await["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// An admin account made through the CLI path, signed in.
    pub async fn admin_token(&self, email: &str) -> String {
        colloquy::services::accounts::create_user_admin_cli(
            &self.state,
            email,
            "Ada Admin",
            PASSWORD,
            colloquy::domain::Role::Admin,
        )
        .await
        .unwrap();
        let r = self.login(email, PASSWORD).await;
        let token = r.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        // An operator's account accepts the terms at its first request.
        self.accept_terms(&token).await;
        token
    }

    /// Accepts the current terms of use and privacy notice
    /// (`POST /api/v1/users/me/terms`, asserting 200).
    pub async fn accept_terms(&self, token: &str) {
        let inst = &self.state.config.institution;
        for (document, version) in [
            ("terms", &inst.terms_version),
            ("privacy_notice", &inst.privacy_version),
        ] {
            let r = self
                .post_json(
                    "/api/v1/users/me/terms",
                    Some(token),
                    &json!({"version": version, "document": document}),
                )
                .await;
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    }

    /// Accepts the current terms and privacy notice for an account without
    /// signing it in (an operator's account, before its first request).
    pub async fn accept_terms_as(
        &self,
        user: colloquy::domain::UserId,
        role: colloquy::domain::Role,
    ) {
        accept_terms_for(&self.state, user, role).await;
    }

    /// The same data directory served by a second app built from a changed
    /// config: a restart after the operator edited the config file.
    pub async fn restart_with(self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = (*self.state.config).clone();
        config.server.bind = "127.0.0.1:0".into();
        tweak(&mut config);
        let app = Application::build(config, Arc::new(self.clock.clone()))
            .await
            .unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state();
        tokio::spawn(app.run_until_stopped(false));
        TestApp {
            address,
            state,
            ..self
        }
    }

    pub async fn create_paper(&self, token: &str, body: &Value) -> reqwest::Response {
        self.post_json("/api/v1/papers", Some(token), body).await
    }

    pub async fn sample_paper(&self, token: &str) -> i64 {
        let r = self.create_paper(token, &sample_paper_body()).await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// `POST /api/v1/consulting/researchers/collect`.
    pub async fn collect(&self, token: Option<&str>, body: &Value) -> reqwest::Response {
        self.post_json("/api/v1/consulting/researchers/collect", token, body)
            .await
    }

    /// Asks for a collection and returns the job id (asserting 202).
    pub async fn collect_ok(&self, token: &str, body: &Value) -> i64 {
        let r = self.collect(Some(token), body).await;
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
        r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap()
    }

    /// Runs every queued collection job, as the scheduler's runner would.
    pub async fn run_collection(&self) -> usize {
        colloquy::services::collection::runner::run_due(&self.state)
            .await
            .unwrap()
    }

    /// `GET /api/v1/consulting/jobs/{id}` (asserting 200).
    pub async fn job(&self, token: &str, id: i64) -> Value {
        let r = self
            .get(&format!("/api/v1/consulting/jobs/{id}"), Some(token))
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    /// A direct connection to the test database.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite_conn(&self.db_path())
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.state.config.database_path()
    }

    /// Reads the audit actions in order, straight from the database.
    pub fn audit_actions(&self) -> Vec<String> {
        let conn = rusqlite_conn(&self.db_path());
        let mut stmt = conn
            .prepare("SELECT action FROM audit_log ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

pub fn rusqlite_conn(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

pub fn sample_paper_body() -> Value {
    json!({
        "title": "Attention Is All You Need",
        "doi": "10.48550/arXiv.1706.03762",
        "year": 2017,
        "venue": "NeurIPS",
        "abstract": "The Transformer relies entirely on attention.",
        "authors": [
            {"name": "Ashish Vaswani", "affiliation": "Google Brain"},
            {"name": "Noam Shazeer", "affiliation": "Google Brain"},
            {"name": "Niki Parmar", "affiliation": "Google Research", "orcid": null}
        ]
    })
}

/// Asserts the API error shape and returns the code.
pub async fn error_code(r: reqwest::Response) -> String {
    let body: Value = r.json().await.expect("error body is JSON");
    let err = &body["error"];
    assert!(err["message"].is_string(), "{body}");
    assert!(err["fields"].is_object(), "{body}");
    err["code"].as_str().expect("code").to_string()
}

/// Accepts the current terms and privacy notice for `user` through the
/// service, as its owner would at the first request.
pub async fn accept_terms_for(
    state: &AppState,
    user: colloquy::domain::UserId,
    role: colloquy::domain::Role,
) {
    use colloquy::domain::{ConsentSource, LegalDocument};
    let who = colloquy::services::accounts::Principal {
        user_id: user,
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
        .await
        .unwrap();
    }
}
