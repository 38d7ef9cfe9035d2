//! `colloquy config check`: the configuration's own checks ran when it
//! loaded; this adds what it means for the data already there, read from
//! the database read-only (none yet: nothing to check). It refuses
//! `[payments] mode = "off"` while money is in flight, and warns when a
//! priced request's answer deadline outlives a card hold.

use anyhow::{anyhow, bail};

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, PaymentsMode};
use crate::domain::zone::{self, Tz};
use crate::services::payments::in_flight::{self, InFlight, Why};

pub(super) fn run(config: &Config) -> anyhow::Result<()> {
    let path = config.database_path();
    let cannot_read = |e: &dyn std::fmt::Display| {
        anyhow!(
            "cannot read the database at {} to check the configuration against it: {e:#}",
            path.display()
        )
    };
    let conn = crate::db::open_read_only(&path, &config.storage).map_err(|e| cannot_read(&e))?;
    let mut warnings = config.warnings();
    if let Some(conn) = &conn {
        match config.payments.mode {
            PaymentsMode::Off => {
                let list = in_flight::in_flight(conn, config, SystemClock.now())
                    .map_err(|e| cannot_read(&e))?;
                if !list.is_empty() {
                    bail!("{}", refusal(&list, config.institution.zone()));
                }
            }
            PaymentsMode::Stripe => {
                let n = in_flight::researchers_outliving_hold(conn, config)
                    .map_err(|e| cannot_read(&e))?;
                if n > 0 {
                    warnings.push(outliving_hold(
                        n,
                        config.payments.authorization_validity_hours,
                    ));
                }
            }
        }
    }
    for w in warnings {
        eprintln!("warning: {w}");
    }
    println!("# configuration is valid; effective values (secrets redacted):\n");
    print!("{}", config.redacted_toml());
    Ok(())
}

fn outliving_hold(n: i64, valid: i64) -> String {
    let who = if n == 1 {
        "1 researcher has".to_string()
    } else {
        format!("{n} researchers have")
    };
    format!(
        "{who} their own request_ttl_hours above payments.authorization_validity_hours = {valid}: \
         their priced requests' answer deadline is capped at the hold's validity ({valid} hours after \
         the card is held), so they get less time to answer than their setting says."
    )
}

/// Why `mode = "off"` is refused: each payment, then what to do.
fn refusal(list: &[InFlight], tz: Tz) -> String {
    let mut out = format!(
        "[payments] mode = \"off\", but {} still hold{} or may still have to give back readers' money:\n",
        crate::domain::text::count(list.len() as i64, "session payment"),
        if list.len() == 1 { "s" } else { "" }
    );
    for InFlight { payment: p, why } in list {
        let mut amount = p.amount.to_string();
        if p.refunded.minor > 0 {
            amount.push_str(&format!(" ({} refunded)", p.refunded));
        }
        let why = match why {
            Why::Held => "card held: release it".to_string(),
            Why::DisputeOpen => "a dispute is open: resolve it".to_string(),
            Why::Refundable { until } => format!("refundable until {}", zone::short(*until, tz)),
        };
        out.push_str(&format!(
            "  session {:<8} {:<19} {:<32} reader {:<8} {why}\n",
            p.session_id.to_string(),
            p.status.to_string(),
            amount,
            p.user_id.to_string()
        ));
    }
    out.push_str(
        "With mode = \"off\" Colloquy no longer calls Stripe: a held card could be neither captured nor \
         released, and a cancellation or a dispute could not refund. Before turning payments off:\n\
         \x20 - release every held card with `colloquy payments release-held` (it works with mode = \"off\" \
         as long as [stripe] secret_key is set; --dry-run lists them first);\n\
         \x20 - resolve open disputes, and refund captured payments that must go back \
         (POST /api/v1/admin/sessions/{session_id}/refund) or wait until they are no longer refundable;\n\
         then run `colloquy config check` again.",
    );
    out
}
