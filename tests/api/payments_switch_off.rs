//! Turning payments off with money in flight: `colloquy config check`
//! refuses `mode = "off"` while a card is held or a captured payment may
//! still be refunded, `colloquy payments release-held` lets every hold go
//! at the Stripe fake (one failure does not stop the others), and a request
//! lifetime longer than a card hold is a warning. The CLI runs against the
//! test app's data directory.

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::Mock;

use crate::cli::{colloquy, run};
use crate::payments_fixtures::*;
use crate::sessions_fixtures::{acted, bookable_researcher_with, every_day, stored_status};
use crate::stripe_fakes::*;

/// A config file for the CLI: the app's data directory, `[payments]` and
/// `[stripe]` lines (the fake's address is added), then `more` sections.
fn cli_config(s: &StripeApp, payments: &str, stripe: &str, more: &str) -> PathBuf {
    let dir = s.app.dir.path();
    let text = format!(
        "[storage]\ndata_dir = {data:?}\n\n[payments]\n{payments}\n\n[stripe]\n{stripe}\n\
         api_base_url = \"{uri}\"\ntimeout_secs = 2\nmax_retries = 0\n\n{more}\n",
        data = dir.display().to_string(),
        uri = s.stripe.uri()
    );
    let file = dir.join("cli.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// Payments off, the Stripe key still set: where an operator ends up.
fn switched_off(s: &StripeApp) -> PathBuf {
    cli_config(
        s,
        "mode = \"off\"",
        &format!("secret_key = \"{SECRET_KEY}\""),
        "",
    )
}

/// Runs `colloquy --config <config> <args>` off the test's runtime.
async fn cli(s: &StripeApp, config: &Path, args: &[&str]) -> (bool, String) {
    let dir = s.app.dir.path().to_path_buf();
    let config = config.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        run(colloquy(&dir)
            .env_remove("STRIPE_SECRET_KEY")
            .arg("--config")
            .arg(&config)
            .args(&args))
    })
    .await
    .unwrap()
}

fn reader_of(s: &StripeApp, session: i64) -> i64 {
    s.app
        .db()
        .query_row(
            "SELECT reader_id FROM consulting_sessions WHERE id = ?1",
            [session],
            |r| r.get(0),
        )
        .unwrap()
}

fn events_of(s: &StripeApp, session: i64) -> Vec<(String, String)> {
    let db = s.app.db();
    let mut stmt = db
        .prepare("SELECT event, actor FROM session_events WHERE session_id = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([session], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn cancel_path(session: i64) -> String {
    format!("/v1/payment_intents/{}/cancel", intent_id(session))
}

/// A second paid request of the same reader, two hours after the first.
async fn second_hold(s: &StripeApp, paid: &Paid) -> i64 {
    let later = thursday_ten() + Duration::hours(2);
    paid_request(&s.app, &paid.reader, &paid.researcher, later).await
}

#[tokio::test]
async fn config_check_refuses_payments_off_while_a_card_is_held_and_passes_once_released() {
    let s = spawn_stripe_app(|_| {}).await;
    let paid = paid(&s.app, 24, false).await;
    let off = switched_off(&s);

    let (ok, out) = cli(&s, &off, &["config", "check"]).await;
    assert!(!ok, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains(&format!("session {} ", paid.id)))
        .unwrap_or_else(|| panic!("the held payment is listed: {out}"));
    assert!(
        line.contains("authorized") && line.contains("EUR 40.00"),
        "{line}"
    );
    assert!(
        line.contains(&format!("reader {}", reader_of(&s, paid.id))),
        "{line}"
    );
    assert!(out.contains("colloquy payments release-held"), "{out}");
    assert!(!out.contains("configuration is valid"), "{out}");

    let (ok, out) = cli(&s, &off, &["payments", "release-held"]).await;
    assert!(ok, "{out}");
    let (ok, out) = cli(&s, &off, &["config", "check"]).await;
    assert!(ok && out.contains("configuration is valid"), "{out}");
}

#[tokio::test]
async fn a_captured_payment_keeps_payments_on_until_it_can_no_longer_be_refunded() {
    let s = spawn_stripe_app(|_| {}).await;
    let paid = paid(&s.app, 24, true).await;
    assert_eq!(payment_of(&s.app, paid.id).0, "captured");
    let off = switched_off(&s);
    // The CLI reads the wall clock: place the session around it.
    let end_at = |t: chrono::DateTime<Utc>| {
        let stamp = t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        s.app
            .db()
            .execute(
                "UPDATE consulting_sessions SET end_at = ?2 WHERE id = ?1",
                rusqlite::params![paid.id, stamp],
            )
            .unwrap();
    };

    end_at(Utc::now() - Duration::days(1));
    let (ok, out) = cli(&s, &off, &["config", "check"]).await;
    assert!(!ok, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains(&format!("session {} ", paid.id)))
        .unwrap_or_else(|| panic!("the captured payment is listed: {out}"));
    assert!(
        line.contains("captured") && line.contains("refundable until"),
        "{line}"
    );
    assert!(out.contains("/refund"), "{out}");

    // Past its dispute window (14 days after the end) it is settled.
    end_at(Utc::now() - Duration::days(15));
    let (ok, out) = cli(&s, &off, &["config", "check"]).await;
    assert!(ok && out.contains("configuration is valid"), "{out}");
    // Release-held never touches a captured payment.
    let (ok, out) = cli(&s, &off, &["payments", "release-held"]).await;
    assert!(ok && out.contains("nothing to release"), "{out}");
    assert_eq!(payment_of(&s.app, paid.id).0, "captured");
}

#[tokio::test]
async fn release_held_cancels_every_hold_at_stripe_and_records_each_release() {
    let s = spawn_stripe_app(|_| {}).await;
    let paid = paid(&s.app, 24, false).await;
    let (a, b) = (paid.id, second_hold(&s, &paid).await);
    // An accepted session's captured payment is not a hold.
    let other = app_accepted(&s, &paid).await;

    let (ok, out) = cli(&s, &switched_off(&s), &["payments", "release-held"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("[1/2] released  session {a} ")),
        "{out}"
    );
    assert!(
        out.contains(&format!("[2/2] released  session {b} ")),
        "{out}"
    );
    assert!(out.contains("released 2, failed 0"), "{out}");

    for id in [a, b] {
        let cancels = calls(&s.stripe, "POST", &cancel_path(id)).await;
        assert_eq!(cancels.len(), 1, "session {id}");
        assert_eq!(key_of(&cancels[0]), format!("colloquy-session-{id}-cancel"));
        assert_eq!(payment_of(&s.app, id).0, "canceled");
        assert_eq!(kinds_of(&s.app, id), ["authorization", "release"]);
        // The session keeps its status; its history says who let it go.
        assert_eq!(stored_status(&s.app, id), "requested");
        assert!(events_of(&s, id).contains(&("payment_released".into(), "admin".into())));
    }
    let released = s.app.audit_actions();
    let released = released.iter().filter(|a| *a == "payment.hold_released");
    assert_eq!(released.count(), 2);
    assert!(calls(&s.stripe, "POST", &cancel_path(other))
        .await
        .is_empty());
    assert_eq!(payment_of(&s.app, other).0, "captured");
    assert_well_formed(&s.stripe).await;

    // Run again: nothing is held any more.
    let (ok, out) = cli(&s, &switched_off(&s), &["payments", "release-held"]).await;
    assert!(ok && out.contains("nothing to release"), "{out}");
}

/// A third session of the reader, accepted (its payment captured).
async fn app_accepted(s: &StripeApp, paid: &Paid) -> i64 {
    let later = thursday_ten() + Duration::hours(4);
    let id = paid_request(&s.app, &paid.reader, &paid.researcher, later).await;
    acted(&s.app, &paid.researcher.token, id, "accept", json!({})).await;
    id
}

#[tokio::test]
async fn a_stripe_failure_is_reported_and_the_other_holds_are_still_released() {
    let s = spawn_stripe_app(|_| {}).await;
    let paid = paid(&s.app, 24, false).await;
    let (a, b) = (paid.id, second_hold(&s, &paid).await);
    Mock::given(method("POST"))
        .and(path(cancel_path(a)))
        .respond_with(stripe_error(404, "error_404_resource_missing.json"))
        .with_priority(1)
        .mount(&s.stripe)
        .await;

    let (ok, out) = cli(&s, &switched_off(&s), &["payments", "release-held"]).await;
    assert!(!ok, "a failure is a non-zero exit: {out}");
    assert!(
        out.contains(&format!("[1/2] FAILED    session {a} ")),
        "{out}"
    );
    assert!(
        out.contains(&format!("[2/2] released  session {b} ")),
        "{out}"
    );
    assert!(out.contains("released 1, failed 1"), "{out}");
    assert!(
        out.contains(&format!(
            "  session {a}: The payment could not be processed"
        )),
        "{out}"
    );

    assert_eq!(payment_of(&s.app, a).0, "authorized");
    assert_eq!(kinds_of(&s.app, a), ["authorization"]);
    assert!(events_of(&s, a)
        .iter()
        .all(|(e, _)| e != "payment_released"));
    assert_eq!(payment_of(&s.app, b).0, "canceled");
    assert_eq!(kinds_of(&s.app, b), ["authorization", "release"]);
}

#[tokio::test]
async fn dry_run_lists_the_holds_and_changes_nothing() {
    let s = spawn_stripe_app(|_| {}).await;
    let paid = paid(&s.app, 24, false).await;
    // No key: the dry run still lists, and says what the real run needs.
    let no_key = cli_config(&s, "mode = \"off\"", "", "");

    let (ok, out) = cli(&s, &no_key, &["payments", "release-held", "--dry-run"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("nothing was changed"), "{out}");
    assert!(
        out.contains(&format!("session {}  EUR 40.00", paid.id)),
        "{out}"
    );
    assert!(out.contains(&intent_id(paid.id)), "{out}");
    assert!(out.contains("needs [stripe] secret_key"), "{out}");
    assert_eq!(count(&s.stripe, "/cancel").await, 0);
    assert_eq!(payment_of(&s.app, paid.id).0, "authorized");
    assert_eq!(kinds_of(&s.app, paid.id), ["authorization"]);

    // The real run without a key says what to set, and changes nothing.
    let (ok, out) = cli(&s, &no_key, &["payments", "release-held"]).await;
    assert!(!ok, "{out}");
    assert!(out.contains("set [stripe] secret_key"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
    assert_eq!(payment_of(&s.app, paid.id).0, "authorized");
}

#[tokio::test]
async fn release_held_refuses_while_a_server_runs_on_the_data() {
    let s = spawn_stripe_app(|_| {}).await;
    let paid = paid(&s.app, 24, false).await;
    let _serving = colloquy::db::serve_lock::acquire(&s.app.state.config, "start").unwrap();

    let (ok, out) = cli(&s, &switched_off(&s), &["payments", "release-held"]).await;
    assert!(!ok && out.contains("stop it first"), "{out}");
    assert_eq!(payment_of(&s.app, paid.id).0, "authorized");
    // Only looking is fine.
    let (ok, out) = cli(
        &s,
        &switched_off(&s),
        &["payments", "release-held", "--dry-run"],
    )
    .await;
    assert!(ok, "{out}");
}

#[tokio::test]
async fn config_check_warns_when_requests_outlive_a_card_hold() {
    let s = spawn_stripe_app(|_| {}).await;
    let mut settings = priced_settings(PRICE, 24);
    settings["request_ttl_hours"] = json!(160);
    bookable_researcher_with(&s.app, "slow@yale.example", settings, every_day()).await;
    priced_researcher(&s.app, 24).await;
    let stripe = cli_config(
        &s,
        "mode = \"stripe\"\nauthorization_validity_hours = 156",
        &format!("secret_key = \"{SECRET_KEY}\"\nwebhook_secret = \"{WEBHOOK_SECRET}\""),
        "[server]\npublic_url = \"https://colloquy.uni.example\"\n\n\
         [sessions]\ndefault_request_ttl_hours = 170",
    );

    let (ok, out) = cli(&s, &stripe, &["config", "check"]).await;
    assert!(
        ok && out.contains("configuration is valid"),
        "a warning only: {out}"
    );
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 2, "{out}");
    assert!(
        warnings[0].contains("default_request_ttl_hours = 170"),
        "{out}"
    );
    assert!(
        warnings[0].contains("capped at the hold's validity"),
        "{out}"
    );
    assert!(
        warnings[1].contains("1 researcher has their own request_ttl_hours above"),
        "{out}"
    );
    assert!(
        warnings[1].contains("capped at the hold's validity"),
        "{out}"
    );

    // Within the hold's validity: no warning.
    let fine = cli_config(
        &s,
        "mode = \"stripe\"\nauthorization_validity_hours = 168",
        &format!("secret_key = \"{SECRET_KEY}\"\nwebhook_secret = \"{WEBHOOK_SECRET}\""),
        "[server]\npublic_url = \"https://colloquy.uni.example\"",
    );
    let (ok, out) = cli(&s, &fine, &["config", "check"]).await;
    assert!(ok && !out.contains("warning"), "{out}");
}
