//! Logging: JSON lines (or readable text on a terminal) via tracing.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LoggingConfig};

/// How many lines may wait for stdout before new ones are dropped (and
/// counted by the writer) rather than stall a request: about half a
/// second of request lines at 60,000 requests/s. The buffer is allocated
/// whole at start (32 bytes a line: 1 MiB).
const BUFFERED_LINES: usize = 32_768;

/// Sets up logging to stdout through a background writer thread, so a slow
/// stdout (a full pipe, a busy journald) never stalls a request. Keep the
/// returned guard for the process's life: dropping it flushes the lines
/// still buffered.
pub fn init(cfg: &LoggingConfig) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    // The scheduler crate logs every job tick at INFO; keep it quieter
    // unless the operator asks for it by name.
    let level = if cfg.level.contains("tokio_cron_scheduler") {
        cfg.level.clone()
    } else {
        format!("{},tokio_cron_scheduler=warn", cfg.level)
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let json = match cfg.format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(BUFFERED_LINES)
        .lossy(true)
        .finish(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_writer(writer);
    // A second init (tests) is harmless; ignore it.
    let done = if json {
        builder
            .json()
            .flatten_event(true)
            // The request's span once (`span`), not again in a list.
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
    done.ok().map(|()| guard)
}
