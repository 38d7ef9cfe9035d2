//! `Application::build` binds the listener (port 0 works, for tests) and
//! reports the real port; `run_until_stopped` serves until a signal.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::services::accounts;
use crate::state::AppState;

pub struct Application {
    listener: TcpListener,
    state: AppState,
    port: u16,
}

impl Application {
    pub async fn build(config: Config, clock: SharedClock) -> anyhow::Result<Self> {
        let state = AppState::build(config, clock)?;
        Self::build_with_state(state).await
    }

    pub async fn build_with_state(state: AppState) -> anyhow::Result<Self> {
        // The current terms and privacy notice, stored under their versions
        // the first time they are current (before any request is served).
        crate::services::terms::publish_current(&state)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let bind = state.config.server.bind.clone();
        let listener = TcpListener::bind(&bind)
            .await
            .with_context(|| format!("binding {bind}"))?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            listener,
            state,
            port,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until Ctrl-C or SIGTERM; with `jobs`, also runs the scheduler.
    pub async fn run_until_stopped(self, jobs: bool) -> anyhow::Result<()> {
        let state = self.state;
        if let Some(url) = accounts::ensure_setup_link(&state)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            tracing::warn!(setup_url = %url, "no admin exists yet: open this one-time link to create one (or run `colloquy user create --role admin`)");
        }
        crate::services::collection::runner::recover(&state)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut scheduler = if jobs {
            Some(crate::jobs::start(&state).await?)
        } else {
            None
        };
        // New jobs wake the runner at once; the `collection` schedule is
        // the fallback tick.
        let runner = (jobs && !state.config.jobs.collection.trim().is_empty())
            .then(|| crate::services::collection::runner::spawn(state.clone()));
        let mail = (jobs && state.mailer.is_some() && !state.config.jobs.mail.trim().is_empty())
            .then(|| crate::services::mail::sender::spawn(state.clone()));
        // Counts wait in memory between flushes; the last ones are written
        // after the server stops taking requests.
        let flusher = jobs.then(|| crate::services::engagement::spawn(state.clone()));
        // `[[plans]]` against their Stripe Prices, without delaying the start.
        let plan_check = jobs
            .then(|| crate::services::payments::plan_check::spawn(state.clone()))
            .flatten();
        if state.mailer.is_none() {
            tracing::info!(
                "no SMTP server configured: mail is held in the outbox (Admin → Mailbox)"
            );
        }
        let app = crate::http::router(state.clone());
        tracing::info!(address = %self.listener.local_addr()?, public_url = %state.config.public_url(), "Colloquy is listening");
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        if let Some(s) = scheduler.as_mut() {
            let _ = s.shutdown().await;
        }
        if let Some(r) = runner {
            r.abort();
        }
        if let Some(m) = mail {
            m.abort();
        }
        if let Some(c) = plan_check {
            c.abort();
        }
        if let Err(e) = crate::services::engagement::stop(&state, flusher).await {
            tracing::error!(error = %e, "the last engagement counts were not written");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
