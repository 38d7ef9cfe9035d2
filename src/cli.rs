//! The command line: `colloquy serve | migrate | config check | user create |
//! keys rotate | keys drop-old | keys migrate-subjects | keys generate | demo [--accounts | --scale] | export DATASET |
//! retention [--dry-run] | backup FILE | restore FILE | audit verify |
//! payments release-held [--dry-run]`.

mod config_check;
mod export;
mod payments;
mod restore;
mod retention;
mod scale;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::Config;
use crate::db::repos::audit::{self, Verification};
use crate::domain::Role;
use crate::services::{accounts, demo, key_rotation};
use crate::startup::Application;
use crate::state::AppState;

#[derive(Parser)]
#[command(
    name = "colloquy",
    version,
    about = "Book consulting sessions with the authors of research papers.",
    long_about = "Colloquy runs as one process with its data in one directory. With no configuration it \
                  listens on http://127.0.0.1:8080 and keeps its data in ./data.\n\n\
                  Quick start:  colloquy demo && colloquy serve"
)]
pub struct Cli {
    /// Configuration file (TOML). Environment variables COLLOQUY__SECTION__KEY override it.
    #[arg(long, global = true, env = "COLLOQUY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web server and the scheduled jobs.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Account commands.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Encryption key commands.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Load about twenty real papers with their authors (safe to repeat),
    /// or with --scale generate a large data set for benchmarks.
    Demo {
        /// Also make a bookable researcher (linked to an author of the first
        /// demo paper, with weekday times) and a reader, and print their
        /// e-mails and new random passwords (run again: new passwords).
        #[arg(long, conflicts_with = "scale")]
        accounts: bool,
        #[command(flatten)]
        scale: scale::ScaleArgs,
    },
    /// Export a dataset (all rows, as an admin sees them) as CSV or NDJSON.
    Export {
        /// sessions, payments, invoices, reviews, researchers, users or
        /// analytics.
        dataset: String,
        /// csv (a header row, RFC 4180) or json (NDJSON, one object a line).
        #[arg(long, default_value = "csv")]
        format: String,
        /// Rows dated at or after this (2026-01-01 or an RFC 3339 time).
        #[arg(long)]
        from: Option<String>,
        /// Rows dated before this.
        #[arg(long)]
        to: Option<String>,
        /// analytics only: day, week (default) or month.
        #[arg(long)]
        bucket: Option<String>,
        /// Write here instead of standard output (must not exist yet).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Remove what [retention] no longer keeps: old mail content, provider
    /// details, unclaimed profiles, ended tokens, old counters. Prints the
    /// rows per kind and the oldest date; 0 in [retention] keeps a kind.
    Retention {
        /// Only count and print what would go; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy the live database to FILE with SQLite's online backup.
    Backup {
        /// Where to write the copy; must not exist yet.
        file: PathBuf,
    },
    /// Put a backup in place of the database (the server must be
    /// stopped). Checks the backup's integrity and that the keyring reads
    /// it first; the replaced database is kept aside.
    Restore {
        /// A file written by `colloquy backup` (or `litestream restore`).
        file: PathBuf,
    },
    /// Audit trail commands.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Payment commands, for turning payments off (docs/operations.md).
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the effective values (secrets
    /// redacted). Reads the database, if there is one, without changing it:
    /// refuses [payments] mode = "off" while card holds or refundable
    /// payments exist, and warns about settings that are valid but
    /// probably not meant.
    Check,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account, for example the first admin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["user", "researcher", "admin"])]
        role: String,
        /// Read the password from standard input (first line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make a new primary key and re-encrypt every encrypted column with it.
    Rotate {
        /// Afterwards remove the old keys (only if nothing uses them any more).
        #[arg(long)]
        drop_old: bool,
    },
    /// Remove the old keys once `keys rotate` has re-encrypted everything.
    DropOld,
    /// Move personal values still under the keyring key to their data
    /// subject's own key (resumable; safe to rerun).
    MigrateSubjects,
    /// Print a new keyring as JSON, for security.key_source = "env".
    Generate,
}

#[derive(Subcommand)]
pub enum PaymentsCommand {
    /// Cancel every held card authorisation at Stripe, for turning
    /// payments off. Needs [stripe] secret_key (mode may already be
    /// "off") and a stopped server. Each payment becomes `canceled` with a
    /// `release` in the ledger; the sessions keep their status.
    ReleaseHeld {
        /// Only list what would be released; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; report the first edited or missing row.
    Verify,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    Ok(Config::load(cli.config.as_deref())?)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn state(config: Config) -> anyhow::Result<AppState> {
    AppState::build(config, Arc::new(SystemClock))
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Keys {
        command: KeysCommand::Generate,
    } = &cli.command
    {
        println!("{}", crate::crypto::generate_keyring_json());
        return Ok(ExitCode::SUCCESS);
    }
    let config = load_config(&cli)?;
    match cli.command {
        Command::Serve => {
            // The long-running server only: bulk commands (`demo --scale`)
            // keep huge pages for their large working sets.
            crate::memory::small_pages_only();
            let _lock = crate::db::serve_lock::acquire(&config, "start")?;
            let _log_writer = crate::telemetry::init(&config.logging);
            runtime()?.block_on(async {
                let app = Application::build(config, Arc::new(SystemClock)).await?;
                app.run_until_stopped(true).await
            })?;
        }
        Command::Migrate => {
            let mut conn = crate::db::open_writer(&config.database_path(), &config.storage)?;
            let applied = crate::db::migrate(&mut conn)?;
            println!(
                "database {} is up to date",
                config.database_path().display()
            );
            let _ = applied;
        }
        Command::Config {
            command: ConfigCommand::Check,
        } => config_check::run(&config)?,
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    name,
                    role,
                    password_stdin,
                },
        } => {
            if !password_stdin {
                bail!("pass --password-stdin and the password on standard input");
            }
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from stdin")?;
            let password = password.lines().next().unwrap_or_default().to_string();
            let role = Role::parse(&role).map_err(anyhow::Error::msg)?;
            let st = state(config)?;
            let user = runtime()?
                .block_on(accounts::create_user_admin_cli(
                    &st, &email, &name, &password, role,
                ))
                .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            println!(
                "created {} account {} for {}",
                role.as_str(),
                user.id,
                user.name
            );
        }
        Command::Keys {
            command: KeysCommand::Rotate { drop_old },
        } => {
            let st = state(config)?;
            let report = key_rotation::rotate(&st, drop_old, &|col, done, total| {
                println!("  {col}: {done}/{total}");
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "new primary key {}; {} values re-encrypted, {} subject keys rewrapped",
                report.new_key_id, report.reencrypted, report.subject_keys_rewrapped
            );
            if !report.dropped.is_empty() {
                println!("dropped old keys: {}", report.dropped.join(", "));
            }
            if let Some(json) = report.keyring_json {
                println!("keys come from the environment: set COLLOQUY_KEYRING to this new keyring now:\n{json}");
            }
        }
        Command::Keys {
            command: KeysCommand::Generate,
        } => {}
        Command::Keys {
            command: KeysCommand::MigrateSubjects,
        } => {
            let st = state(config)?;
            let moved = crate::services::subject_migration::migrate(&st, &|col, done, total| {
                if total > 0 {
                    println!("  {col}: {done}/{total}");
                }
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let (live, destroyed) = st
                .keys
                .subject_key_counts()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{moved} values moved to subject keys; {live} subject keys live, {destroyed} destroyed");
        }
        Command::Keys {
            command: KeysCommand::DropOld,
        } => {
            let st = state(config)?;
            let (dropped, json) = key_rotation::drop_old_keys(&st)
                .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            if dropped.is_empty() {
                println!("no old keys to drop");
            } else {
                println!("dropped old keys: {}", dropped.join(", "));
            }
            if let Some(json) = json {
                println!("keys come from the environment: set COLLOQUY_KEYRING to this new keyring now:\n{json}");
            }
        }
        Command::Demo { scale, .. } if scale.wanted() => {
            scale::run(&state(config)?, &scale)?;
        }
        Command::Demo { accounts, .. } => {
            let st = state(config)?;
            let rt = runtime()?;
            let report = rt
                .block_on(demo::load(&st))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "demo data: {} papers added, {} already there",
                report.inserted, report.skipped
            );
            if accounts {
                let made = rt
                    .block_on(crate::services::demo_accounts::create(&st))
                    .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
                let public = st.config.public_url();
                for (what, a) in [("researcher", &made.researcher), ("reader", &made.reader)] {
                    let verb = if a.created { "created" } else { "new password" };
                    println!(
                        "demo {what} ({verb}): {}  password: {}",
                        a.email, a.password
                    );
                }
                println!(
                    "{} is bookable at {public}/researchers/{} (an author of {public}/papers/{}).",
                    made.researcher.name, made.researcher_id, made.paper_id
                );
            }
        }
        Command::Export {
            dataset,
            format,
            from,
            to,
            bucket,
            out,
        } => {
            let st = state(config)?;
            runtime()?.block_on(export::run(&st, &dataset, &format, from, to, bucket, out))?;
        }
        Command::Retention { dry_run } => {
            let st = state(config)?;
            runtime()?.block_on(retention::run(&st, dry_run))?;
        }
        Command::Backup { file } => {
            if file.exists() {
                bail!("{} exists; choose a new file", file.display());
            }
            let src = config.database_path();
            if !src.exists() {
                bail!("there is no database at {}", src.display());
            }
            crate::db::backup(&src, &file, |done, total| {
                if total > 0 && (done == total || done % 1024 == 0) {
                    println!("  {done}/{total} pages");
                }
            })?;
            println!("backup written to {}", file.display());
            println!(
                "keep the keyring ({}) too: the backup cannot be read without it",
                crate::crypto::Keyring::keyring_path(&config).display()
            );
        }
        Command::Restore { file } => restore::run(&config, &file)?,
        Command::Payments {
            command: PaymentsCommand::ReleaseHeld { dry_run },
        } => {
            // A running server could capture a hold while it is being
            // released (and the release would then refund it): stopped only.
            let _lock = if dry_run {
                None
            } else {
                Some(crate::db::serve_lock::acquire(
                    &config,
                    "release held payments",
                )?)
            };
            let st = state(config)?;
            return runtime()?.block_on(payments::release_held(&st, dry_run));
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let st = state(config)?;
            let keys = st.keys.clone();
            let result = runtime()?
                .block_on(st.db.read(move |c| audit::verify(c, &keys)))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            match result {
                Verification::Intact { rows } => {
                    println!("audit trail intact: {rows} rows, hash chain verified")
                }
                Verification::Broken { row_id, reason } => {
                    println!("audit trail BROKEN at row {row_id}: {reason}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
