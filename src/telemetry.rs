//! Logging: JSON lines (or readable text on a terminal) via tracing.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LoggingConfig};

pub fn init(cfg: &LoggingConfig) {
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    // A second init (tests) is harmless; ignore it.
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
