//! Booking in headless Chromium: a reader picks a free slot on the
//! researcher's page and requests it; the researcher logs in and accepts.

use fantoccini::{Client, Locator};

use crate::browser::{body_text, fill, start_browser};
use crate::helpers::{spawn_app, TestApp, PASSWORD};
use crate::sessions_fixtures::bookable_researcher;

pub(crate) async fn log_in(c: &Client, app: &TestApp, email: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    fill(c, "email", email).await;
    fill(c, "password", PASSWORD).await;
    c.find(Locator::Css("article button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(".flash-success"))
        .await
        .unwrap();
}

pub(crate) async fn log_out(c: &Client) {
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("a[href='/login']"))
        .await
        .unwrap();
}

pub(crate) async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reader_books_a_slot_and_the_researcher_accepts_it_in_the_browser() {
    let app = spawn_app().await;
    let researcher = bookable_researcher(&app, "grace@yale.example").await;
    let r = app
        .register("rosalind@uni.example", "Rosalind Reader")
        .await;
    assert_eq!(r.status(), 201);
    let Some((_driver, c)) = start_browser().await else {
        return;
    };

    // The reader picks the first free slot and asks for a session.
    log_in(&c, &app, "rosalind@uni.example").await;
    c.goto(&app.url(&format!("/researchers/{}", researcher.researcher_id)))
        .await
        .unwrap();
    let first = c
        .wait()
        .for_element(Locator::Css("#book-form input[name='start']"))
        .await
        .unwrap();
    let picked = first.attr("value").await.unwrap().unwrap();
    first.click().await.unwrap();
    fill(&c, "topic", "How the A-0 compiler linked subroutines").await;
    c.find(Locator::Css("#book-form button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("#session-status"))
        .await
        .unwrap();
    assert!(body_text(&c).await.contains("Your request is made"));
    assert_eq!(text_of(&c, "#session-status").await, "requested");
    let session_url = c.current_url().await.unwrap().to_string();
    let session_id: i64 = session_url.rsplit('/').next().unwrap().parse().unwrap();
    let stored = app
        .state
        .db
        .read(move |conn| {
            Ok(conn.query_row(
                "SELECT start_at FROM consulting_sessions WHERE id = ?1",
                [session_id],
                |row| row.get::<_, String>(0),
            )?)
        })
        .await
        .unwrap();
    let picked = chrono::DateTime::parse_from_rfc3339(&picked).unwrap();
    let stored = chrono::DateTime::parse_from_rfc3339(&stored).unwrap();
    assert_eq!(picked, stored, "the slot booked is the one picked");

    // The researcher logs in, opens the session and accepts it.
    log_out(&c).await;
    log_in(&c, &app, "grace@yale.example").await;
    c.goto(&session_url).await.unwrap();
    c.wait()
        .for_element(Locator::Css("button#accept"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("#join-link"))
        .await
        .unwrap();
    assert!(body_text(&c).await.contains("Accepted."));
    assert_eq!(text_of(&c, "#session-status").await, "accepted");
    let join = text_of(&c, "#join-link").await;
    assert!(join.starts_with("https://meet.jit.si/colloquy-"), "{join}");
    assert!(c.find(Locator::Css("#ics-download")).await.is_ok());
    c.close().await.unwrap();
}
