//! Scheduled jobs. Each job is a service function callable from tests;
//! here they are registered with tokio-cron-scheduler from `[jobs]`.
//! An empty schedule disables a job.

use std::future::Future;
use std::pin::Pin;

use tokio_cron_scheduler::{Job, JobScheduler};

use crate::error::AppResult;
use crate::services::{collection, disputes, housekeeping, mail, retention, sessions};
use crate::state::AppState;

/// What a job run answers: a one-line summary for the log.
pub type JobFuture = Pin<Box<dyn Future<Output = AppResult<String>> + Send>>;

/// The `retention` job: removes what `[retention]` no longer keeps and
/// audits the run (tests call it as the scheduler does).
pub fn retention_job(st: AppState) -> JobFuture {
    Box::pin(async move {
        retention::run(&st, st.now(), false, retention::Source::Job)
            .await
            .map(|r| {
                r.kinds
                    .iter()
                    .map(|k| format!("{} {}", k.kind.as_str(), k.rows))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
    })
}

/// Registers one job under its `[jobs]` name, unless its schedule is empty.
async fn add(
    scheduler: &JobScheduler,
    state: &AppState,
    name: &'static str,
    schedule: &str,
    run: fn(AppState) -> JobFuture,
) -> anyhow::Result<()> {
    let schedule = schedule.trim();
    if schedule.is_empty() {
        tracing::info!(job = name, "job disabled (empty schedule)");
        return Ok(());
    }
    let st = state.clone();
    let job = Job::new_async(schedule, move |_id, _lock| {
        let st = st.clone();
        Box::pin(async move {
            let result = run(st.clone()).await;
            st.metrics.job_run(name, result.is_ok());
            match result {
                Ok(summary) => tracing::debug!(job = name, %summary, "job ran"),
                Err(e) => tracing::error!(job = name, error = %e, "job failed"),
            }
        })
    })
    .map_err(|e| anyhow::anyhow!("jobs.{name} `{schedule}` is not a valid cron schedule: {e}"))?;
    scheduler.add(job).await?;
    tracing::info!(job = name, %schedule, "job scheduled");
    Ok(())
}

/// Starts the scheduler with every enabled job.
pub async fn start(state: &AppState) -> anyhow::Result<JobScheduler> {
    let scheduler = JobScheduler::new().await?;
    let jobs = &state.config.jobs;
    add(
        &scheduler,
        state,
        "housekeeping",
        &jobs.housekeeping,
        |st| {
            Box::pin(async move {
                housekeeping::run(&st, st.now())
                    .await
                    .map(|r| format!("{r:?}"))
            })
        },
    )
    .await?;
    add(&scheduler, state, "collection", &jobs.collection, |st| {
        Box::pin(async move {
            collection::runner::run_due(&st)
                .await
                .map(|n| format!("{n} jobs"))
        })
    })
    .await?;
    add(
        &scheduler,
        state,
        "refresh_stale",
        &jobs.refresh_stale,
        |st| {
            Box::pin(async move {
                collection::refresh_stale(&st, st.now())
                    .await
                    .map(|n| format!("{n} queued"))
            })
        },
    )
    .await?;
    add(&scheduler, state, "sessions", &jobs.sessions, |st| {
        Box::pin(async move {
            sessions::jobs::run(&st, st.now())
                .await
                .map(|r| format!("{r:?}"))
        })
    })
    .await?;
    add(&scheduler, state, "disputes", &jobs.disputes, |st| {
        Box::pin(async move {
            disputes::jobs::run(&st, st.now())
                .await
                .map(|r| format!("{r:?}"))
        })
    })
    .await?;
    add(
        &scheduler,
        state,
        "subscriptions",
        &jobs.subscriptions,
        |st| {
            Box::pin(async move {
                crate::services::payments::subscriptions::expire_lapsed(&st, st.now())
                    .await
                    .map(|n| format!("{n} expired"))
            })
        },
    )
    .await?;
    add(&scheduler, state, "reviews", &jobs.reviews, |st| {
        Box::pin(async move {
            crate::services::reviews::jobs::run(&st, st.now())
                .await
                .map(|n| format!("{n} reminders"))
        })
    })
    .await?;
    add(&scheduler, state, "analytics", &jobs.analytics, |st| {
        Box::pin(async move {
            retention::analytics_counters(&st, st.now())
                .await
                .map(|n| format!("{n} counter rows deleted"))
        })
    })
    .await?;
    add(
        &scheduler,
        state,
        "retention",
        &jobs.retention,
        retention_job,
    )
    .await?;
    if state.mailer.is_some() {
        add(&scheduler, state, "mail", &jobs.mail, |st| {
            Box::pin(async move {
                mail::sender::send_due(&st)
                    .await
                    .map(|(s, f)| format!("{s} sent, {f} failed"))
            })
        })
        .await?;
    }
    scheduler.start().await?;
    Ok(scheduler)
}
