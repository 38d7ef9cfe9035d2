//! Every page and e-mail that shows a time names its zone, for accounts
//! that are not in UTC: a reader in Los Angeles books a researcher in
//! Berlin while browsing in Berlin time, and an admin in Tokyo reads the
//! admin lists. The confirmation never silently shows another time than
//! the one picked: it gives both participants' zones.

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp, PASSWORD};
use crate::pages::{browser, csrf_of, logged_in_browser};
use crate::sessions_fixtures::*;
use colloquy::clock::Clock;
use colloquy::config::EmailVerification;

const READER: &str = "lee@uni.example";
const LA: &str = "America/Los_Angeles";
const BERLIN: &str = "Europe/Berlin";

async fn text(web: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let r = web.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

fn has(haystack: &str, needles: &[&str], what: &str) {
    for n in needles {
        assert!(haystack.contains(n), "{what}: no {n:?} in\n{haystack}");
    }
}

/// The one message of `template` to `to`: its subject and plain text.
fn mail_to(app: &TestApp, template: &str, to: &str) -> (String, String) {
    let m = mails(app, template)
        .into_iter()
        .rev()
        .find(|m| m.recipient == to)
        .unwrap_or_else(|| panic!("no {template} to {to}"));
    (m.content.subject, m.content.text)
}

/// A Berlin researcher open every day 09:00–17:00 Berlin time, a reader
/// who registered in Los Angeles time and is signed in on the web.
async fn berlin_and_los_angeles(app: &TestApp) -> (Bookable, String, reqwest::Client) {
    app.clock.set(monday_morning());
    let mut settings = open_settings();
    settings["timezone"] = json!(BERLIN);
    let r = bookable_researcher_with(app, "grace@tu-berlin.example", settings, every_day()).await;
    let reg = app
        .post_json(
            "/api/v1/auth/register",
            None,
            &json!({"email": READER, "password": PASSWORD, "name": "Lee Reader", "accept_terms": true, "time_zone": LA}),
        )
        .await;
    assert_eq!(reg.status(), 201);
    let token = app
        .login(READER, PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (web, _) = logged_in_browser(app, READER).await;
    (r, token, web)
}

#[tokio::test]
async fn every_page_and_e_mail_of_a_booking_names_the_zone_of_whoever_reads_it() {
    let app = spawn_patient_app().await;
    let (r, reader, web) = berlin_and_los_angeles(&app).await;
    let rid = r.researcher_id;

    // Slot lists: in the reader's zone, or the zone picked for browsing.
    let html = text(&web, &app, &format!("/researchers/{rid}?duration=60")).await;
    has(
        &html,
        &[
            "<option selected>America/Los_Angeles</option>",
            "(America/Los_Angeles)",
            "Thursday 10 December",
            "07:00–08:00 PST",
        ],
        "slots, own zone",
    );
    let html = text(
        &web,
        &app,
        &format!("/researchers/{rid}?duration=60&tz=Europe/Berlin"),
    )
    .await;
    has(
        &html,
        &[
            "(Europe/Berlin)",
            "16:00–17:00 CET",
            r#"name="tz" value="Europe/Berlin""#,
        ],
        "slots, Berlin",
    );

    // Booking while browsing in Berlin time: the confirmation says the time
    // picked, and the time in the reader's and the researcher's zones.
    let resp = web
        .post(app.url(&format!("/researchers/{rid}/book")))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("start", "2026-12-10T15:00:00+00:00"),
            ("duration", "60"),
            ("topic", "Clock changes"),
            ("tz", BERLIN),
        ])
        .send()
        .await
        .unwrap();
    let id: i64 = resp
        .url()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let html = resp.text().await.unwrap();
    has(
        &html,
        &[
            "You picked Thu 10 December 2026, 16:00 CET (Europe/Berlin).",
            "Thu 10 December 2026, 07:00–08:00 PST (America/Los_Angeles)",
            "For Grace Hopper: Thu 10 December 2026, 16:00–17:00 CET (Europe/Berlin)",
            // Answer by: 48 hours after the booking.
            "<dt>Answer by</dt><dd>Wed 9 December 2026, 00:00 PST</dd>",
            // History.
            "Mon 7 December 2026, 00:00 PST: requested",
        ],
        "reader's session page",
    );
    let html = text(&web, &app, "/sessions").await;
    has(
        &html,
        &[
            "Thu 10 December 2026, 07:00 PST",
            "Times in America/Los_Angeles",
        ],
        "my sessions",
    );

    // The request to the researcher, in Berlin time, with the reader's.
    let (_, mail) = mail_to(&app, "session_request", "grace@tu-berlin.example");
    has(
        &mail,
        &[
            "Thu 10 December 2026, 16:00 CET (Europe/Berlin)",
            "For Lee Reader: Thu 10 December 2026, 07:00 PST (America/Los_Angeles)",
            "If you do not answer by Wed 9 December 2026, 09:00 CET",
        ],
        "session_request",
    );
    let link = regex::Regex::new(r"/sessions/\d+/respond\?token=[A-Za-z0-9_\-\.]+&action=accept")
        .unwrap()
        .find(&mail)
        .expect("an answer link")
        .as_str()
        .to_string();
    let html = text(&browser(), &app, &link).await;
    has(
        &html,
        &[
            "Thu 10 December 2026, 16:00–17:00 CET (Europe/Berlin)",
            "For Lee Reader: Thu 10 December 2026, 07:00–08:00 PST (America/Los_Angeles)",
        ],
        "answer page",
    );
    let (grace, _) = logged_in_browser(&app, "grace@tu-berlin.example").await;
    let html = text(&grace, &app, &format!("/sessions/{id}")).await;
    has(
        &html,
        &[
            "Thu 10 December 2026, 16:00–17:00 CET (Europe/Berlin)",
            "For Lee Reader: Thu 10 December 2026, 07:00–08:00 PST (America/Los_Angeles)",
            "Wed 9 December 2026, 09:00 CET",
        ],
        "researcher's session page",
    );

    // Accepted: each e-mail and its invite in the recipient's zone, the
    // other's time beside it, the subject's date the recipient's.
    acted(&app, &r.token, id, "accept", json!({})).await;
    let (subject, mail) = mail_to(&app, "session_accepted", READER);
    assert_eq!(subject, "Confirmed: consulting session on 10 December 2026");
    has(
        &mail,
        &[
            "Thu 10 December 2026, 07:00 PST (America/Los_Angeles)",
            "For Grace Hopper: Thu 10 December 2026, 16:00 CET (Europe/Berlin)",
        ],
        "session_accepted to the reader",
    );
    let (_, mail) = mail_to(&app, "session_accepted", "grace@tu-berlin.example");
    has(
        &mail,
        &[
            "Thu 10 December 2026, 16:00 CET (Europe/Berlin)",
            "For Lee Reader: Thu 10 December 2026, 07:00 PST",
        ],
        "session_accepted to the researcher",
    );
    for (to, when) in [
        (READER, "07:00–08:00 PST (America/Los_Angeles)"),
        ("grace@tu-berlin.example", "16:00–17:00 CET (Europe/Berlin)"),
    ] {
        let m = mails(&app, "session_accepted")
            .into_iter()
            .find(|m| m.recipient == to)
            .unwrap();
        has(
            invite_of(&m).one("DESCRIPTION"),
            &[when],
            "invite description",
        );
    }
    let ics = web
        .get(app.url(&format!("/sessions/{id}/invite.ics")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    has(
        parse_invite(&ics).one("DESCRIPTION"),
        &["07:00–08:00 PST (America/Los_Angeles)"],
        "downloaded invite",
    );

    // A new time proposed by the reader: the researcher's e-mail and both pages.
    let proposed = app
        .post_json(
            &format!("/api/v1/consulting/sessions/{id}/reschedule"),
            Some(&reader),
            &json!({"start": "2026-12-11T15:00:00Z"}),
        )
        .await;
    assert_eq!(proposed.status(), 200, "{}", proposed.text().await.unwrap());
    let (_, mail) = mail_to(
        &app,
        "session_reschedule_proposed",
        "grace@tu-berlin.example",
    );
    has(
        &mail,
        &["A new time is proposed: Fri 11 December 2026, 16:00 CET (Europe/Berlin)."],
        "proposal e-mail",
    );
    let html = text(&web, &app, &format!("/sessions/{id}")).await;
    has(
        &html,
        &["Fri 11 December 2026, 07:00 PST (America/Los_Angeles)"],
        "proposal on the reader's page",
    );
    let html = text(&grace, &app, &format!("/sessions/{id}")).await;
    has(
        &html,
        &["Fri 11 December 2026, 16:00 CET (Europe/Berlin)"],
        "proposal on the researcher's page",
    );

    // The reminder a day before.
    app.clock.set(at("2026-12-09T15:01:00Z"));
    colloquy::services::sessions::jobs::run(&app.state, app.clock.now())
        .await
        .unwrap();
    let (_, mail) = mail_to(&app, "session_reminder", READER);
    has(
        &mail,
        &[
            "Thu 10 December 2026, 07:00 PST (America/Los_Angeles)",
            "For Grace Hopper: Thu 10 December 2026, 16:00 CET",
        ],
        "reminder",
    );
}

#[tokio::test]
async fn admin_lists_show_times_in_the_admins_zone() {
    let app = spawn_patient_app().await;
    let (r, reader, _) = berlin_and_los_angeles(&app).await;
    booked(&app, &reader, r.researcher_id, at("2026-12-10T15:00:00Z")).await;
    let admin = app.admin_token("admin@uni.example").await;
    let resp = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/users/me/timezone",
            Some(&admin),
            &json!({"timezone": "Asia/Tokyo"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let (web, _) = logged_in_browser(&app, "admin@uni.example").await;
    // 08:00 UTC on Monday is 17:00 in Tokyo.
    for path in [
        "/admin".to_string(),
        "/admin/mail".to_string(),
        format!("/admin/mail/{}", mails(&app, "session_request")[0].id),
    ] {
        let html = text(&web, &app, &path).await;
        has(&html, &["2026-12-07 17:00 JST"], &path);
        assert!(!html.contains("(UTC)"), "{path}");
    }
    // Dates are the admin's too: an account made at 20:00 UTC on Monday
    // was made on Tuesday in Tokyo.
    app.clock.set(at("2026-12-07T20:00:00Z"));
    app.token("late.joiner@uni.example").await;
    let late_id: i64 = app
        .db()
        .query_row("SELECT max(id) FROM users", [], |r| r.get(0))
        .unwrap();
    let admin_list = text(&web, &app, "/admin").await;
    has(&admin_list, &["8 December 2026"], "/admin");
    let one = text(&web, &app, &format!("/admin/users/{late_id}")).await;
    has(&one, &["8 December 2026"], "/admin/users/{id}");
    let (own, _) = logged_in_browser(&app, "late.joiner@uni.example").await;
    let account = text(&own, &app, "/account").await;
    has(&account, &["7 December 2026"], "/account in UTC");
}

#[tokio::test]
async fn the_note_about_a_second_registration_gives_the_owners_zone() {
    let app = spawn_app_with(|c| c.accounts.email_verification = EmailVerification::Required).await;
    let body = |zone: &str| json!({"email": READER, "password": PASSWORD, "name": "Lee", "accept_terms": true, "timezone": zone});
    assert_eq!(
        app.post_json("/api/v1/auth/register", None, &body(LA))
            .await
            .status(),
        202
    );
    assert_eq!(
        app.post_json("/api/v1/auth/register", None, &body(BERLIN))
            .await
            .status(),
        202
    );
    let (_, mail) = mail_to(&app, "registration_attempt", READER);
    assert!(
        mail.contains("PST (America/Los_Angeles)") || mail.contains("PDT (America/Los_Angeles)"),
        "{mail}"
    );
}

/// The class, not only the instances: no template or code slices a stored
/// time into a zoneless string or a UTC date, and no code formats a clock time except
/// `domain::zone` (and wire formats for other systems).
#[test]
fn times_are_formatted_in_one_place() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![root.join("templates"), root.join("src")];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let body = std::fs::read_to_string(&path).unwrap_or_default();
            let sliced = [".get(..10)", ".get(..16)", ".get(..19)", "[..10]"]
                .iter()
                .any(|p| body.contains(p))
                || (name.starts_with("templates/") && body.contains("(UTC)"));
            let clock =
                name.starts_with("src/") && body.contains("%H") && !name.ends_with("_tests.rs");
            let allowed = ["src/domain/zone.rs", "src/services/sessions/video.rs"];
            if sliced || (clock && !allowed.contains(&name.as_str())) {
                offenders.push(name);
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "format times with domain::zone: {offenders:?}"
    );
}
