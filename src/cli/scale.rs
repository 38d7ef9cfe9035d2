//! `colloquy demo --scale`: generates the benchmark data set
//! (`services::demo_scale`), with a progress bar (or, off a terminal,
//! progress lines) on standard error and one
//! summary line on standard output.

use std::io::IsTerminal;

use anyhow::anyhow;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::services::demo_scale::{self, ScaleSpec, Step};
use crate::state::AppState;

#[derive(Args)]
pub struct ScaleArgs {
    /// Instead of the real papers, generate a large realistic data set for
    /// benchmarks. `--scale N`: 1,000 × N papers (1 to 12 authors each),
    /// 3,000 × N researchers, 400 × N readers and 10,000 × N sessions; N =
    /// 100 is a large university. `--scale` alone: 2,000 researchers,
    /// 20,000 readers and 200,000 sessions. Sessions span the last two
    /// years, with payments, reviews, subscriptions, outreach and analytics
    /// counters. The same seed gives the same data.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub scale: Option<Option<u32>>,
    /// With --scale: how many researchers (about 70 % register and are bookable).
    #[arg(long, requires = "scale", value_name = "N")]
    pub researchers: Option<usize>,
    /// With --scale: how many papers (default: 1,000 × N, or three for
    /// every two researchers).
    #[arg(long, requires = "scale", value_name = "N")]
    pub papers: Option<usize>,
    /// With --scale: how many readers.
    #[arg(long, requires = "scale", value_name = "N")]
    pub readers: Option<usize>,
    /// With --scale: how many sessions.
    #[arg(long, requires = "scale", value_name = "N")]
    pub sessions: Option<usize>,
    /// With --scale: how many days, ending now, the sessions span.
    #[arg(long, requires = "scale", value_name = "N")]
    pub days: Option<i64>,
    /// With --scale: the random seed.
    #[arg(long, requires = "scale", value_name = "N")]
    pub seed: Option<u64>,
    /// With --scale: add the data set to a database that has sessions
    /// already (nothing is deleted; without it such a database is refused).
    #[arg(long, requires = "scale")]
    pub force: bool,
}

impl ScaleArgs {
    pub fn wanted(&self) -> bool {
        self.scale.is_some()
    }

    fn spec(&self) -> ScaleSpec {
        let d = match self.scale.flatten() {
            Some(n) => ScaleSpec::at_scale(n as usize),
            None => ScaleSpec::default(),
        };
        ScaleSpec {
            researchers: self.researchers.unwrap_or(d.researchers),
            papers: self.papers.or(d.papers),
            readers: self.readers.unwrap_or(d.readers),
            sessions: self.sessions.unwrap_or(d.sessions),
            days: self.days.unwrap_or(d.days),
            seed: self.seed.unwrap_or(d.seed),
            force: self.force,
        }
    }
}

/// A progress bar on a terminal; one line per step otherwise (a log).
fn reporter() -> impl Fn(&Step) {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(0);
        let style = ProgressStyle::with_template(
            "{elapsed_precise:.dim} [{bar:32}] {pos}/{len} {msg} ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar
    });
    move |step: &Step| match &bar {
        Some(bar) if step.total > 0 => {
            if bar.length() != Some(step.total as u64) || bar.message() != step.stage {
                bar.set_length(step.total as u64);
                bar.set_message(step.stage.to_string());
            }
            bar.set_position(step.done as u64);
        }
        Some(bar) => bar.println(format!("  {step}")),
        None => eprintln!("  {step}"),
    }
}

/// The database file with its WAL.
fn database_bytes(path: &std::path::Path) -> u64 {
    let wal = path.with_extension("db-wal");
    [path, wal.as_path()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

pub fn run(st: &AppState, args: &ScaleArgs) -> anyhow::Result<()> {
    let spec = args.spec();
    eprintln!(
        "generating {} papers, {} researchers, {} readers and {} sessions over {} days (seed {}) into {}",
        spec.paper_count(),
        spec.researchers,
        spec.readers,
        spec.sessions,
        spec.days,
        spec.seed,
        st.db.path().display()
    );
    let r = super::runtime()?
        .block_on(demo_scale::generate(st, &spec, reporter()))
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "generated {} researchers ({} bookable), {} readers, {} papers, {} sessions ({} events), \
         {} payments, {} ledger rows, {} reviews, {} subscriptions, {} outreach, {} interest, \
         {} reading progress, {} provider calls, {} analytics counters in {:.1} s; \
         the database is {:.0} MB",
        r.researchers,
        r.researcher_accounts,
        r.readers,
        r.papers,
        r.sessions,
        r.events,
        r.payments,
        r.ledger_rows,
        r.reviews,
        r.subscriptions,
        r.outreach,
        r.interest,
        r.progress,
        r.provider_calls,
        r.counters,
        r.seconds,
        database_bytes(st.db.path()) as f64 / 1e6
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn spec(args: &[&str]) -> Result<ScaleSpec, clap::Error> {
        let cli = Cli::try_parse_from(["colloquy", "demo"].iter().chain(args))?;
        match cli.command {
            Command::Demo { scale, .. } if scale.wanted() => Ok(scale.spec()),
            _ => panic!("not a scale command: {args:?}"),
        }
    }

    #[test]
    fn scale_n_sizes_the_data_set_and_flags_override_it() {
        let s = spec(&["--scale", "100"]).unwrap();
        assert_eq!(s.paper_count(), 100_000);
        assert_eq!(s.researchers, 300_000);
        assert_eq!(s.sessions, 1_000_000);
        let s = spec(&["--scale", "2", "--sessions", "500", "--seed", "9"]).unwrap();
        assert_eq!((s.paper_count(), s.sessions, s.seed), (2_000, 500, 9));
        // Alone, --scale keeps the benchmark set it always made.
        assert_eq!(spec(&["--scale"]).unwrap(), ScaleSpec::default());
        assert!(spec(&["--scale", "0"]).is_err());
        assert!(spec(&["--scale", "many"]).is_err());
    }
}
