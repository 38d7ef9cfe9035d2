//! The dashboards as pages: each role's home after sign-in, the admins'
//! analytics with charts and table alternatives, and (in headless
//! Chromium) an admin who opens the dashboard, sees the charts and
//! downloads the sessions CSV.

use fantoccini::Locator;
use serde_json::json;

use crate::browser::{body_text, start_browser};
use crate::browser_booking::log_in;
use crate::helpers::TestApp;
use crate::pages::logged_in_browser;
use crate::reviews_fixtures::{completed, reviewed};
use crate::sessions_fixtures::{at, booked, spawn_patient_app};

async fn page(web: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = web.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn each_role_lands_on_its_own_dashboard() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 2).await;
    reviewed(&app, &c.reader, c.sessions[0], 4, None).await;
    let pending = booked(
        &app,
        &c.reader,
        c.researcher.researcher_id,
        at("2026-12-15T10:00:00Z"),
    )
    .await;
    app.admin_token("admin@uni.example").await;

    let (reader, _) = logged_in_browser(&app, "reader@uni.example").await;
    let (status, home) = page(&reader, &app, "/").await;
    assert_eq!(status, 200);
    assert!(home.contains("Your dashboard"), "{home}");
    assert!(home.contains(&format!("id=\"awaiting-{pending}\"")));
    assert!(
        home.contains(&format!("/sessions/{}#review", c.sessions[1])),
        "the unreviewed session"
    );
    assert!(
        home.contains("Nothing paid in the last twelve months"),
        "spending explained"
    );
    assert!(!home.contains("As a researcher"));
    assert!(home.contains(r#"href="/exports/sessions?format=csv""#));
    let (status, _) = page(&reader, &app, "/admin/analytics").await;
    assert_eq!(status, 403);

    let (researcher, _) = logged_in_browser(&app, "grace@yale.example").await;
    let (_, home) = page(&researcher, &app, "/").await;
    assert!(home.contains("As a researcher"), "{home}");
    assert!(home.contains(&format!("id=\"pending-{pending}\"")));
    assert!(home.contains("4 ★") || home.contains("4.0 ★"), "the rating");
    assert!(home.contains("Reviews by stars"));
    assert!(home.contains("<svg"), "the rating chart");
    assert!(home.contains("Show as a table"));
    assert!(home.contains("No earnings in the last twelve months"));
    assert!(home.contains("Still missing:"));

    let (admin, _) = logged_in_browser(&app, "admin@uni.example").await;
    let (_, home) = page(&admin, &app, "/").await;
    assert!(home.contains("<h1>Analytics</h1>"), "{home}");
    assert!(home.contains("Researchers, from collected to booked"));
    // Every chart has its numbers as a table.
    assert_eq!(
        home.matches("<svg class=\"chart-drawing\"").count(),
        home.matches("Show as a table").count()
    );
    assert!(home.matches("Show as a table").count() >= 2, "{home}");
    // The admin's own dashboard is one link away.
    let (status, mine) = page(&admin, &app, "/dashboard").await;
    assert_eq!(status, 200);
    assert!(mine.contains("Your dashboard"));

    // A bad range is a readable message on the page, not an error page.
    let (status, bad) = page(
        &admin,
        &app,
        "/admin/analytics?bucket=fortnight&from=2026-13-01",
    )
    .await;
    assert_eq!(status, 422);
    assert!(bad.contains("must be day, week or month"), "{bad}");
    assert!(bad.contains("value=\"2026-13-01\""), "the input is kept");

    // Signed out, `/` is the search.
    let (status, visitor) = page(&crate::pages::browser(), &app, "/").await;
    assert_eq!(status, 200);
    assert!(visitor.contains("Find a paper"));
    assert!(!visitor.contains("Your dashboard"));
}

#[tokio::test]
async fn an_admin_opens_the_dashboard_sees_the_charts_and_downloads_the_sessions_csv() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 3).await;
    app.admin_token("admin@uni.example").await;
    let Some((_driver, b)) = start_browser().await else {
        return;
    };
    log_in(&b, &app, "admin@uni.example").await;
    b.goto(&app.url("/admin/analytics?from=2026-11-30&to=2026-12-14&bucket=day"))
        .await
        .unwrap();
    let charts = b.find_all(Locator::Css("figure.chart svg")).await.unwrap();
    assert!(charts.len() >= 5, "{} charts", charts.len());
    let text = body_text(&b).await;
    assert!(text.contains("Sessions"), "{text}");
    // The first chart's table: one row per day, three completed on 8 Dec.
    b.find(Locator::Css("#analytics-sessions figure.chart summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let table = b
        .find(Locator::Css("#analytics-sessions figure.chart table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(table.contains("2026-12-08"), "{table}");

    let link = b.find(Locator::Css("#export-sessions")).await.unwrap();
    let href = link.attr("href").await.unwrap().unwrap();
    assert!(href.starts_with("/exports/sessions?format=csv"), "{href}");
    // The browser downloads it with its own session (cookie).
    let got = b
        .execute_async(
            r#"const [href, done] = arguments;
               fetch(href).then(async r => done({status: r.status,
                   disposition: r.headers.get('content-disposition'), body: await r.text()}));"#,
            vec![json!(href)],
        )
        .await
        .unwrap();
    assert_eq!(got["status"], 200);
    assert!(got["disposition"]
        .as_str()
        .unwrap()
        .contains("colloquy-sessions-"));
    let body = got["body"].as_str().unwrap();
    let mut rows = csv::Reader::from_reader(body.as_bytes());
    let ids: Vec<i64> = rows
        .records()
        .map(|r| r.unwrap()[0].parse().unwrap())
        .collect();
    let mut expected = c.sessions.clone();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, expected);
}
