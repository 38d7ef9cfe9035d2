//! The zone dropdown in a real browser: pre-filled with the browser's zone,
//! narrowed by typing into its search box, and what was picked is the
//! account's zone.

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::browser::{fill, start_browser};
use crate::helpers::{spawn_app, PASSWORD};

async fn eval(c: &Client, script: &str) -> Value {
    c.execute(script, Vec::new()).await.unwrap()
}

#[tokio::test]
async fn a_visitor_finds_a_zone_by_typing_and_registers_with_it() {
    let app = spawn_app().await;
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    c.goto(&app.url("/register")).await.unwrap();
    // A fresh form shows the browser's own zone.
    assert_eq!(
        eval(&c, "return document.getElementById('time-zone').value === Intl.DateTimeFormat().resolvedOptions().timeZone;").await,
        Value::Bool(true)
    );
    // The search box narrows the list and picks the first match.
    let search = c
        .find(Locator::Css(".zone-field input[type='search']"))
        .await
        .unwrap();
    assert_eq!(
        search.attr("aria-label").await.unwrap().as_deref(),
        Some("Search time zones")
    );
    search.send_keys("los ang").await.unwrap();
    assert_eq!(
        eval(&c, "return document.getElementById('time-zone').value;").await,
        "America/Los_Angeles"
    );
    let left = eval(
        &c,
        "return document.getElementById('time-zone').options.length;",
    )
    .await;
    assert!(left.as_u64().is_some_and(|n| (1..5).contains(&n)), "{left}");
    // Enter in the search box does not send the form half-filled.
    search.send_keys("\u{E007}").await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/register"));

    fill(&c, "name", "Lee Reader").await;
    fill(&c, "email", "lee@uni.example").await;
    fill(&c, "password", PASSWORD).await;
    c.find(Locator::Css("[name='accept_terms']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("button[type='submit']:not(.secondary)"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(".flash-success"))
        .await
        .unwrap();
    c.goto(&app.url("/account")).await.unwrap();
    let shown = c
        .find(Locator::Css("#timezone strong"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(shown, "America/Los_Angeles");
    c.close().await.unwrap();
}
