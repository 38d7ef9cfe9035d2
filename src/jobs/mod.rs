//! Scheduled jobs. Each job is a service function callable from tests;
//! here they are registered with tokio-cron-scheduler from `[jobs]`.
//! An empty schedule disables a job.

use tokio_cron_scheduler::{Job, JobScheduler};

use crate::services::housekeeping;
use crate::state::AppState;

/// Checks a cron schedule (empty means disabled) without scheduling it.
pub fn check_schedule(name: &str, schedule: &str) -> Result<(), String> {
    if schedule.trim().is_empty() {
        return Ok(());
    }
    Job::new(schedule.trim(), |_, _| {})
        .map(|_| ())
        .map_err(|e| format!("jobs.{name} `{schedule}` is not a valid cron schedule (sec min hour day month weekday): {e}"))
}

/// Starts the scheduler with every enabled job.
pub async fn start(state: &AppState) -> anyhow::Result<JobScheduler> {
    let scheduler = JobScheduler::new().await?;
    let schedule = state.config.jobs.housekeeping.trim().to_string();
    if schedule.is_empty() {
        tracing::info!(job = "housekeeping", "job disabled (empty schedule)");
    } else {
        let st = state.clone();
        let job = Job::new_async(schedule.as_str(), move |_id, _lock| {
            let st = st.clone();
            Box::pin(async move {
                if let Err(e) = housekeeping::run(&st, st.now()).await {
                    tracing::error!(job = "housekeeping", error = %e, "job failed");
                }
            })
        })
        .map_err(|e| {
            anyhow::anyhow!("jobs.housekeeping `{schedule}` is not a valid cron schedule: {e}")
        })?;
        scheduler.add(job).await?;
        tracing::info!(job = "housekeeping", %schedule, "job scheduled");
    }
    scheduler.start().await?;
    Ok(scheduler)
}
