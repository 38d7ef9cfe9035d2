//! Reviews in headless Chromium: a reader rates a completed session, the
//! review is held (it has a link), an admin publishes it from the queue,
//! and the rating shows on the researcher's page.

use fantoccini::Locator;

use crate::browser::{body_text, fill, start_browser};
use crate::browser_booking::{log_in, log_out, text_of};
use crate::reviews_fixtures::completed;
use crate::sessions_fixtures::spawn_patient_app;

#[tokio::test]
async fn a_reader_rates_a_session_an_admin_publishes_it_and_the_profile_shows_the_rating() {
    let app = spawn_patient_app().await;
    let c0 = completed(&app, 1).await;
    app.admin_token("admin@uni.example").await;
    let rid = c0.researcher.researcher_id;
    let Some((_driver, c)) = start_browser().await else {
        return;
    };

    log_in(&c, &app, "reader@uni.example").await;
    c.goto(&app.url(&format!("/sessions/{}", c0.sessions[0])))
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("#review input[name='rating'][value='5']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(
        &c,
        "comment",
        "Patient and precise. Slides: www.example.org/slides",
    )
    .await;
    c.find(Locator::Css("#submit-review"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(".flash-success"))
        .await
        .unwrap();
    let page = body_text(&c).await;
    assert!(page.contains("held for moderation"), "{page}");
    c.goto(&app.url(&format!("/researchers/{rid}")))
        .await
        .unwrap();
    assert!(body_text(&c).await.contains("No reviews yet."));

    log_out(&c).await;
    log_in(&c, &app, "admin@uni.example").await;
    c.goto(&app.url("/admin/reviews")).await.unwrap();
    assert!(body_text(&c)
        .await
        .contains("held: contains an e-mail address, phone number or link"));
    fill(&c, "reason", "The link is to the session's slides.").await;
    c.find(Locator::Css("form.moderate button[value='publish']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(".flash-success"))
        .await
        .unwrap();
    assert!(body_text(&c).await.contains("Published."));

    c.goto(&app.url(&format!("/researchers/{rid}")))
        .await
        .unwrap();
    assert!(text_of(&c, "#rating").await.contains("5.0 of 5 (1 review)"));
    assert!(body_text(&c).await.contains("Patient and precise."));
    c.close().await.unwrap();
}
