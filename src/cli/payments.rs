//! `colloquy payments release-held [--dry-run]`: one line per held payment
//! as it is released, then a summary; a failure is reported and the others
//! still go. The releasing itself is `services::payments::release_held`.

use std::process::ExitCode;

use anyhow::anyhow;

use crate::db::repos::payments::SessionPayment;
use crate::services::payments::release_held;
use crate::state::AppState;

pub(super) async fn release_held(st: &AppState, dry_run: bool) -> anyhow::Result<ExitCode> {
    let message = |e: crate::error::AppError| anyhow!("{}", e.public_message());
    let held = release_held::held_payments(st).await.map_err(message)?;
    let total = held.len();
    if total == 0 {
        println!("no card is held: nothing to release");
        return Ok(ExitCode::SUCCESS);
    }
    if dry_run {
        println!("dry run: nothing was changed; {total} held payment(s) would be released:");
        for p in &held {
            println!("  {}", describe(p));
        }
        if !st.config.stripe.secret_key.is_set() {
            println!("note: the real run needs [stripe] secret_key (or STRIPE_SECRET_KEY), the key of the Stripe account that holds them");
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!("releasing {total} held payment(s) at Stripe…");
    let mut done = 0;
    let report = release_held::release_all(st, &held, |p, outcome| {
        done += 1;
        match outcome {
            Ok(()) => println!("[{done}/{total}] released  {}", describe(p)),
            Err(why) => println!("[{done}/{total}] FAILED    {}: {why}", describe(p)),
        }
    })
    .await
    .map_err(message)?;
    println!(
        "released {}, failed {}; the sessions keep their status",
        report.released.len(),
        report.failed.len()
    );
    if report.failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for (id, why) in &report.failed {
        println!("  session {id}: {why}");
    }
    println!("nothing was recorded for the failed ones; fix the cause and run `colloquy payments release-held` again");
    Ok(ExitCode::from(1))
}

/// A payment as one line: ids and the amount, no personal data.
fn describe(p: &SessionPayment) -> String {
    format!(
        "session {}  {}  reader {}  {}",
        p.session_id,
        p.amount(),
        p.user_id,
        p.intent_id.as_deref().unwrap_or("(no PaymentIntent)")
    )
}
