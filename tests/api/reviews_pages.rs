//! Review forms on the pages: "Rate this session", and the answer and
//! report forms on a researcher's page, each coming back with what was
//! typed and every problem next to its field.

use crate::reviews_fixtures::*;
use crate::sessions_fixtures::spawn_patient_app;

/// Posts a form from a signed-in browser.
async fn post(web: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
    web.post(url).form(form).send().await.unwrap()
}

#[tokio::test]
async fn a_failed_rating_form_comes_back_with_what_was_typed_and_every_error() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 1).await;
    let (web, csrf) = crate::pages::logged_in_browser(&app, "reader@uni.example").await;
    let url = app.url(&format!("/sessions/{}/review", c.sessions[0]));
    let long = format!("Kept words {}", "z".repeat(2000));
    let form = [
        ("csrf_token", csrf.as_str()),
        ("action", "review"),
        ("rating", ""),
        ("comment", long.as_str()),
    ];
    let r = post(&web, &url, &form).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("Kept words zzz"), "the comment is kept");
    assert!(
        page.contains("The rating must be a whole number of stars from 1 to 5"),
        "{page}"
    );
    assert!(
        page.contains("The comment must be at most 2000 characters"),
        "{page}"
    );
    assert!(public_list(&app, c.researcher.researcher_id).await["items"]
        .as_array()
        .unwrap()
        .is_empty());

    let form = [
        ("csrf_token", csrf.as_str()),
        ("action", "review"),
        ("rating", "4"),
        ("comment", "Good."),
    ];
    let r = post(&web, &url, &form).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Your review is published"));
    // Another reader's browser has no form, and the researcher none either.
    let (researcher, _) = crate::pages::logged_in_browser(&app, "grace@yale.example").await;
    let page = researcher
        .get(app.url(&format!("/sessions/{}", c.sessions[0])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Rate this session") && page.contains("The reader's review"),
        "{page}"
    );
}

#[tokio::test]
async fn the_answer_and_report_forms_keep_what_was_typed_and_say_what_is_wrong() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 1).await;
    let id = reviewed(&app, &c.reader, c.sessions[0], 4, Some("Good.")).await["id"]
        .as_i64()
        .unwrap();
    let (web, csrf) = crate::pages::logged_in_browser(&app, "grace@yale.example").await;
    let url = app.url(&format!("/reviews/{id}/reply"));
    let long = format!("Kept answer {}", "w".repeat(2000));
    let r = post(
        &web,
        &url,
        &[("csrf_token", csrf.as_str()), ("text", long.as_str())],
    )
    .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("Kept answer www"), "the answer is kept");
    assert!(
        page.contains("The answer must be at most 2000 characters"),
        "{page}"
    );
    let r = post(
        &web,
        &url,
        &[("csrf_token", csrf.as_str()), ("text", "Thank you.")],
    )
    .await;
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Your answer is published."));
    // Answering again is refused with a sentence, not a blank page.
    let r = post(
        &web,
        &url,
        &[("csrf_token", csrf.as_str()), ("text", "Again.")],
    )
    .await;
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("You answered this review already."));

    app.token("second.reader@uni.example").await;
    let (reader2, csrf2) = crate::pages::logged_in_browser(&app, "second.reader@uni.example").await;
    let url = app.url(&format!("/reviews/{id}/report"));
    let r = post(
        &reader2,
        &url,
        &[("csrf_token", csrf2.as_str()), ("reason", "  ")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("The reason is required"));
    let r = post(
        &reader2,
        &url,
        &[("csrf_token", csrf2.as_str()), ("reason", "Off topic")],
    )
    .await;
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("A moderator will look at this review."));
}
