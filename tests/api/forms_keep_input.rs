//! Every form that posts: bad values come back as typed, with every
//! problem next to its field at once, in plain words (1-based lines where
//! lines are meant, no internal names or backticks). Booking, claim and
//! session forms are in `forms_keep_input_booking.rs`, account and admin
//! forms in `forms_keep_input_admin.rs`.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::outreach::{outreach, register_link, researcher};
use crate::pages::{browser, csrf_of, logged_in_browser, signed_in_browser};
use crate::sessions_fixtures::bookable_researcher;

/// Loads `from` (for its CSRF token), then posts `fields` to `to`.
pub(crate) async fn submit(
    web: &reqwest::Client,
    app: &TestApp,
    from: &str,
    to: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let html = web
        .get(app.url(from))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = web.post(app.url(to)).form(&form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Every needle is on the page, and no message reads like an internal name.
pub(crate) fn shows_all(html: &str, needles: &[&str]) {
    for n in needles {
        assert!(html.contains(n), "missing {n:?} in {html}");
    }
    let messages = regex::Regex::new(
        r#"(?s)class="field-(?:error|warning)">(.*?)</small>|id="form-errors">(.*?)</div>"#,
    )
    .unwrap();
    for m in messages.captures_iter(html) {
        let text = m.get(1).or(m.get(2)).unwrap().as_str();
        for internal in ["[0]", "[1]", "`", "_id", "_minutes", "_hours", "_terms"] {
            assert!(!text.contains(internal), "{internal:?} in {text:?}");
        }
    }
}

#[tokio::test]
async fn the_registration_form_keeps_what_was_typed_and_marks_every_field() {
    let app = spawn_app().await;
    let long_name = "N".repeat(201);
    let fields = [
        ("email", "not-an-email"),
        ("name", long_name.as_str()),
        ("password", "short"),
    ];
    let (status, html) = submit(&browser(), &app, "/register", "/register", &fields).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            r#"value="not-an-email""#,
            &format!(r#"value="{long_name}""#),
            "E-mail is not an e-mail address.",
            "Name must be at most 200 characters.",
            "Password must be at least",
            "Terms: you must accept the terms",
            r#"aria-invalid="true""#,
        ],
    );
}

#[tokio::test]
async fn the_setup_form_keeps_what_was_typed() {
    let app = spawn_app().await;
    let url = colloquy::services::accounts::ensure_setup_link(&app.state)
        .await
        .unwrap()
        .unwrap();
    let path = format!("/setup/{}", url.rsplit('/').next().unwrap());
    let fields = [
        ("email", "boss@uni.edu"),
        ("name", "Boss"),
        ("password", "x"),
        ("accept_terms", "yes"),
    ];
    let (status, html) = submit(&browser(), &app, &path, &path, &fields).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            r#"value="boss@uni.edu""#,
            r#"value="Boss""#,
            "Password must be at least",
            " checked",
        ],
    );
}

#[tokio::test]
async fn the_log_in_form_keeps_the_address_and_says_why() {
    let app = spawn_app().await;
    app.register("ada@uni.edu", "Ada").await;
    let fields = [
        ("email", "ada@uni.edu"),
        ("password", "wrong password here"),
    ];
    let (status, html) = submit(&browser(), &app, "/login", "/login", &fields).await;
    assert_eq!(status, 401);
    shows_all(
        &html,
        &[
            r#"value="ada@uni.edu""#,
            "The e-mail address or the password is wrong.",
        ],
    );
}

#[tokio::test]
async fn a_bad_time_zone_on_the_invitation_form_keeps_the_bio_and_everything_else() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    outreach(&app, &reader, json!({"researcher_id": rid})).await;
    let path = format!("/invite/{}", register_link(&app, rid));
    let long_title = "T".repeat(501);
    let publications = format!("A short title\n{long_title}");
    let fields = [
        ("name", "Ada King"),
        ("password", "short"),
        ("timezone", "Mars/Olympus"),
        ("bio", "My corrected bio."),
        ("affiliation", "Countess of Lovelace"),
        ("homepage", ""),
        ("publications", publications.as_str()),
        ("achievements", "A prize | http://localhost/prize"),
    ];
    let (status, html) = submit(&browser(), &app, &path, &path, &fields).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            r#"value="Ada King""#,
            "My corrected bio.</textarea>",
            r#"value="Countess of Lovelace""#,
            &long_title,
            "A prize | http://localhost/prize</textarea>",
            "Time zone is not an IANA time zone such as Europe/Berlin.",
            "Password must be at least",
            "Terms: you must accept the terms",
            "Line 2: the title must be at most 500 characters, on one line.",
            "Line 1: the link must",
        ],
    );
    let status: String = crate::helpers::rusqlite_conn(&app.db_path())
        .query_row(
            "SELECT COUNT(*) FROM users WHERE role = 'researcher'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n.to_string())
        .unwrap();
    assert_eq!(status, "0", "nothing was registered");
}

#[tokio::test]
async fn the_invitation_link_form_keeps_the_zone() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    outreach(&app, &reader, json!({"researcher_id": rid})).await;
    let path = format!("/invite/{}", register_link(&app, rid));
    let (web, _) = signed_in_browser(&app, "someone@uni.edu").await;
    let fields = [("timezone", "Asia/Tokyo")];
    let (status, html) = submit(&web, &app, &path, &format!("{path}/link"), &fields).await;
    assert!((400..500).contains(&status), "{status}");
    shows_all(
        &html,
        &[
            "<option selected>Asia/Tokyo</option>",
            "Terms: you must accept the terms",
        ],
    );
}

#[tokio::test]
async fn adding_a_paper_shows_every_problem_at_once_and_keeps_the_text() {
    let app = spawn_app().await;
    let (web, _) = signed_in_browser(&app, "reader@uni.edu").await;
    let authors = "Ada Lovelace;; 1234\n\n; Analytical Society";
    let fields = [
        ("title", " "),
        ("doi", "nope"),
        ("year", "twenty"),
        ("venue", "Nature"),
        ("abstract", "Engines."),
        ("authors", authors),
    ];
    let (status, html) = submit(&web, &app, "/papers/new", "/papers/new", &fields).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            "Title is required.",
            "DOI is not a DOI like 10.1000/xyz123.",
            "Year must be a number like 2017.",
            "Line 1: the ORCID is not an ORCID like 0000-0002-1825-0097.",
            "Line 3: the name is required.",
            r#"value="nope""#,
            r#"value="twenty""#,
            r#"value="Nature""#,
            "Engines.</textarea>",
            "Ada Lovelace;; 1234\n\n; Analytical Society</textarea>",
        ],
    );

    let (status, html) = submit(
        &web,
        &app,
        "/papers/new",
        "/papers/import",
        &[("doi", "not a doi")],
    )
    .await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            r#"value="not a doi""#,
            "DOI is not a DOI like 10.1000/xyz123.",
        ],
    );
}

#[tokio::test]
async fn reading_progress_keeps_the_typed_value() {
    let app = spawn_app().await;
    let (web, _) = signed_in_browser(&app, "reader@uni.edu").await;
    let token = app.token("author@uni.edu").await;
    let paper = app.sample_paper(&token).await;
    let here = format!("/papers/{paper}");
    let fields = [("percent", "150"), ("wants_consultation", "yes")];
    let (status, html) = submit(&web, &app, &here, &format!("{here}/progress"), &fields).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            r#"value="150""#,
            "Progress must be between 0 and 100.",
            "checked",
        ],
    );
}

#[tokio::test]
async fn the_availability_form_names_each_bad_line_and_reads_liberal_times() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let path = format!("/researchers/{}/availability", r.researcher_id);
    let (web, _) = logged_in_browser(&app, "grace@yale.example").await;
    let mut form = vec![
        ("timezone", "Europe/Berlin"),
        ("durations", "30, abc"),
        ("price", "4.505"),
        ("currency", "EUR"),
        ("min_notice_hours", "x"),
        ("buffer_minutes", "0"),
        ("max_per_day", "99"),
        ("horizon_days", "30"),
        ("request_ttl_hours", "24"),
        ("cancel_window_hours", "12"),
        (
            "rules",
            "Mon 9-12\nfunday 10:00-11:00\n\nwed 25:00-26:00\ntuesday",
        ),
        ("exceptions", "2026-12-24 maybe\n2026-02-30 block"),
    ];
    let (status, html) = submit(&web, &app, &path, &path, &form).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            "Line 2: the day must be a weekday such as mon or Monday.",
            "Line 4: the start must be a time like 09:00; the end must be a time like 12:00 (or 24:00).",
            "Line 5: write a day and a time span, like mon 09:00-12:00.",
            "Line 1: the kind must be block or extra.",
            "Line 2: the date must be a real date written like 2026-12-24.",
            "Each session length must be a whole number.",
            "The price must be an amount in EUR such as 15.00.",
            "The minimum notice must be a whole number.",
            "Sessions per day must be between 1 and 48.",
            "Mon 9-12\nfunday 10:00-11:00\n\nwed 25:00-26:00\ntuesday</textarea>",
            r#"value="4.505""#,
        ],
    );
    let rules = rules_of(&app, r.researcher_id).await;
    assert_eq!(rules["rules"][0]["start"], "09:00", "nothing was saved");

    // Liberal times save; a window too short for any session is a warning.
    form[1].1 = "30";
    form[2].1 = "0";
    form[4].1 = "0";
    form[6].1 = "3";
    form[10].1 = "Monday 9-12\ntue 9:00 - 9:15";
    form[11].1 = "";
    let (status, html) = submit(&web, &app, &path, &path, &form).await;
    assert_eq!(status, 200);
    shows_all(
        &html,
        &[
            "Saved.",
            "Line 2: 09:00–09:15 is only 15 minutes, shorter than the shortest session (30 minutes), so no one can book it.",
            "field-warning",
        ],
    );
    let rules = rules_of(&app, r.researcher_id).await;
    assert_eq!(rules["rules"].as_array().unwrap().len(), 2, "{rules}");
}

async fn rules_of(app: &TestApp, rid: i64) -> Value {
    let path = format!("/api/v1/consulting/researchers/{rid}/availability/rules");
    app.get(&path, None).await.json().await.unwrap()
}
