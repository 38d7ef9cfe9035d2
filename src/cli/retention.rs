//! `colloquy retention [--dry-run]`: what each kind would lose, or losing
//! it, as a table a data-protection officer can read.

use crate::domain::zone::{self, Tz};
use crate::services::retention::{self, Report, Source};
use crate::state::AppState;

/// Runs retention now (or only counts, with `dry_run`) and prints the
/// rows per kind, the oldest date among them and what was kept and why.
pub(super) async fn run(st: &AppState, dry_run: bool) -> anyhow::Result<()> {
    if !dry_run {
        eprintln!("removing what [retention] no longer keeps, in batches…");
    }
    let report = retention::run(st, st.now(), dry_run, Source::Cli)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
    print!("{}", describe(&report, st.config.institution.zone()));
    Ok(())
}

/// The report as lines: a heading, then one line per kind, times in the
/// institution's zone.
fn describe(report: &Report, tz: Tz) -> String {
    let mut out = String::from(if report.dry_run {
        "dry run: nothing was changed; this is what would go\n"
    } else {
        "retention run done; an audit row records it\n"
    });
    let verb = if report.dry_run { "would go" } else { "went" };
    for k in &report.kinds {
        let name = k.kind.as_str();
        if k.keeps_forever() {
            out.push_str(&format!("{name:<20} kept forever ({} = 0)\n", k.kind.key()));
            continue;
        }
        // A stored time, or a counter's day (already a local date).
        let oldest = match k.oldest.as_deref() {
            None => "-".to_string(),
            Some(d) => {
                crate::db::parse_ts(d).map_or_else(|_| d.to_string(), |t| zone::short(t, tz))
            }
        };
        out.push_str(&format!(
            "{name:<20} {rows:>8} rows {verb}  oldest {oldest}  (older than {days} day{s}, {key})\n",
            rows = k.rows,
            days = k.days,
            s = if k.days == 1 { "" } else { "s" },
            key = k.kind.key()
        ));
        for kept in &k.kept {
            out.push_str(&format!(
                "{:<20} {:>8} rows kept: {}\n",
                "",
                kept.rows,
                match kept.reason {
                    "with_sessions" => "they have sessions, payments or reviews",
                    "claim_or_merge_open" => "a claim request or merge review is open",
                    other => other,
                }
            ));
        }
    }
    out
}
