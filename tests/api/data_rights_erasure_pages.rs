//! Erasing a never-signed-up profile from `/admin/data-subjects`: the
//! "Erase" button on such rows only, a confirmation page that says what
//! will happen, the password prompt when it was entered too long ago,
//! and the flash afterwards.

use chrono::Duration;
use colloquy::clock::Clock;

use crate::claims::{profile, verified};
use crate::helpers::{spawn_app_with, PASSWORD};
use crate::pages::{logged_in_browser, page_text};

#[tokio::test]
async fn an_admin_erases_a_profile_from_the_data_subjects_page() {
    let app = spawn_app_with(|c| c.security.admin_require_reauth_minutes = 10).await;
    app.admin_token("admin@uni.example").await;
    let (_, owner) = verified(&app, "owner@uni.example").await;
    let owned = profile(&app, "Owned Scientist", None, Some(owner), None).await;
    let free = profile(&app, "Free Scientist", Some("free@lab.example"), None, None).await;
    let (web, csrf) = logged_in_browser(&app, "admin@uni.example").await;

    let list = page_text(&web, &app, "/admin/data-subjects?q=scientist").await;
    let erase = format!("/admin/data-subjects/researcher/{free}/erase");
    assert!(list.contains(&format!("href=\"{erase}\"")), "{list}");
    assert!(!list.contains(&format!("/admin/data-subjects/researcher/{owned}/erase")));

    let confirm = page_text(&web, &app, &erase).await;
    for needle in [
        "Erase Free Scientist",
        "cannot be undone",
        "suppression list",
        "no ORCID iD or OpenAlex id",
        "name=\"confirm\"",
    ] {
        assert!(confirm.contains(needle), "{needle}: {confirm}");
    }
    let owned_page = page_text(
        &web,
        &app,
        &format!("/admin/data-subjects/researcher/{owned}/erase"),
    )
    .await;
    assert!(owned_page.contains("id=\"profile-owned\"") && !owned_page.contains("id=\"erase\""));

    // Without the box ticked nothing happens.
    let r = web
        .post(app.url(&erase))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("Tick the box"));
    // Without the CSRF token neither.
    let r = web
        .post(app.url(&erase))
        .form(&[("csrf_token", "forged"), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // The password was entered too long ago: the prompt carries the form on.
    app.clock.set(app.clock.now() + Duration::minutes(11));
    let r = web
        .post(app.url(&erase))
        .form(&[("csrf_token", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let prompt = r.text().await.unwrap();
    assert!(
        prompt.contains("Confirm your password") && prompt.contains("Erasing a researcher profile")
    );
    assert!(
        prompt.contains("name=\"confirm\" value=\"yes\""),
        "{prompt}"
    );
    let erased = |app: &crate::helpers::TestApp| -> i64 {
        app.db()
            .query_row(
                "SELECT COUNT(*) FROM researchers WHERE erased_at IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(erased(&app), 0);
    let r = web
        .post(app.url(&erase))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("confirm", "yes"),
            ("reauth_password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().path(), "/admin/data-subjects");
    let done = r.text().await.unwrap();
    assert!(done.contains("The profile is erased"), "{done}");
    assert!(done.contains("will never be written to again"), "{done}");
    assert_eq!(erased(&app), 1);
    let r = web.get(app.url(&erase)).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
