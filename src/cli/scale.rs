//! `colloquy demo --scale`: generates the benchmark data set
//! (`services::demo_scale`), with progress lines on standard error and one
//! summary line on standard output.

use anyhow::anyhow;
use clap::Args;

use crate::services::demo_scale::{self, ScaleSpec};
use crate::state::AppState;

#[derive(Args)]
pub struct ScaleArgs {
    /// Instead of the real papers, generate a large realistic data set for
    /// benchmarks: 2,000 researchers, 20,000 readers and 200,000 sessions
    /// over the last two years, with payments, reviews, subscriptions,
    /// outreach and analytics counters. The same seed gives the same data.
    #[arg(long)]
    pub scale: bool,
    /// With --scale: how many researchers (about 70 % register and are bookable).
    #[arg(long, requires = "scale", value_name = "N")]
    pub researchers: Option<usize>,
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

pub fn run(st: &AppState, args: &ScaleArgs) -> anyhow::Result<()> {
    let d = ScaleSpec::default();
    let spec = ScaleSpec {
        researchers: args.researchers.unwrap_or(d.researchers),
        readers: args.readers.unwrap_or(d.readers),
        sessions: args.sessions.unwrap_or(d.sessions),
        days: args.days.unwrap_or(d.days),
        seed: args.seed.unwrap_or(d.seed),
        force: args.force,
    };
    eprintln!(
        "generating {} researchers, {} readers and {} sessions over {} days (seed {}) into {}",
        spec.researchers,
        spec.readers,
        spec.sessions,
        spec.days,
        spec.seed,
        st.db.path().display()
    );
    let r = super::runtime()?
        .block_on(demo_scale::generate(st, &spec, |line| {
            eprintln!("  {line}")
        }))
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "generated {} researchers ({} bookable), {} readers, {} papers, {} sessions ({} events), \
         {} payments, {} ledger rows, {} reviews, {} subscriptions, {} outreach, {} interest, \
         {} reading progress, {} provider calls, {} analytics counters in {:.1} s",
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
        r.seconds
    );
    Ok(())
}
