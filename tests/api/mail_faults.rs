//! Faults on the way to the SMTP server (issue 17, §4): it refuses the
//! connection with 421, drops the line in the middle of DATA, or accepts
//! the connection and never answers. In each case nothing is lost: the
//! message stays queued with the error, backs off, and is delivered once
//! when the server behaves again. A silent server costs one timeout per
//! round, not one per queued message.

use std::time::{Duration, Instant};

use colloquy::services::mail;

use crate::mail::{admin, app_with_smtp, status_of};
use crate::smtp_sink::{Mode, SmtpSink};

/// Queues `n` messages with the sink in `mode`, runs one round, then
/// lets the server recover and checks each message arrives exactly once.
/// Returns the failed round's duration and its recorded error.
async fn fails_then_delivers(mode: Mode, n: usize) -> (Duration, String) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    let who = admin(&app).await;
    sink.set_mode(mode);
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let to = format!("fault{i}@uni.edu");
        ids.push(mail::send_test(&app.state, &who, &to, None).await.unwrap());
    }
    let started = Instant::now();
    assert_eq!(mail::sender::send_due(&app.state).await.unwrap(), (0, 0));
    let took = started.elapsed();
    let (status, attempts, error) = status_of(&app, ids[0]);
    assert_eq!((status.as_str(), attempts), ("queued", 1), "{mode:?}");
    let error = error.expect("the failure is recorded");
    assert!(sink.received().is_empty(), "{mode:?}: nothing was accepted");

    // The round stopped at the first message: the others were not tried.
    for id in &ids[1..] {
        assert_eq!(status_of(&app, *id).1, 0, "{mode:?}: tried in a dead round");
    }
    // The server is back: the untried go out; the backoff (60 s) still
    // holds the failed one.
    sink.set_mode(Mode::Accept);
    let (early, _) = mail::sender::send_due(&app.state).await.unwrap();
    assert_eq!(early, n - 1, "{mode:?}");
    assert_eq!(
        status_of(&app, ids[0]).1,
        1,
        "{mode:?}: retried before the backoff"
    );
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(
        mail::sender::send_due(&app.state).await.unwrap(),
        (1, 0),
        "{mode:?}"
    );
    for id in &ids {
        assert_eq!(status_of(&app, *id).0, "sent", "{mode:?}");
    }
    let got = sink.wait_for(n, Duration::from_secs(5)).await;
    assert_eq!(got.len(), n, "{mode:?}: each message exactly once");
    (took, error)
}

#[tokio::test]
async fn a_421_greeting_is_a_temporary_failure_retried_later() {
    let (_, error) = fails_then_delivers(Mode::Refuse, 1).await;
    assert!(error.starts_with("temporary"), "{error}");
    assert!(error.contains("421"), "{error}");
}

#[tokio::test]
async fn a_connection_dropped_in_the_middle_of_data_loses_nothing() {
    let (_, error) = fails_then_delivers(Mode::DropInData, 1).await;
    assert!(
        error.starts_with("connection") || error.starts_with("timeout"),
        "{error}"
    );
}

#[tokio::test]
async fn a_silent_server_costs_one_timeout_per_round_and_the_queue_waits() {
    // smtp.timeout_secs is 2 in these tests; three queued messages.
    let (took, error) = fails_then_delivers(Mode::Hang, 3).await;
    assert!(
        error.starts_with("timeout") || error.starts_with("connection"),
        "{error}"
    );
    assert!(
        took >= Duration::from_secs(2),
        "gave up before the timeout: {took:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "one timeout per round, not one per message: {took:?}"
    );
}
