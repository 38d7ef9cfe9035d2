//! Readers find bookable authors where they look: the paper page's author
//! cards and author list, search results and their filter (page and API),
//! a researcher's own profile and account page.

use serde_json::Value;

use crate::collection::{mount_openalex, priem_paper};
use crate::helpers::{error_code, spawn_app, TestApp};
use crate::pages::{logged_in_browser, signed_in_browser};
use crate::sessions_fixtures::{bookable_researcher, registered_researcher, rid, Bookable};
use colloquy::clock::Clock;
use colloquy::db::repos::researchers;
use colloquy::domain::{PaperId, ResearcherId};

async fn html(web: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let r = web.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// Makes profile `id` the author at `position` of `paper`.
async fn link(app: &TestApp, paper: i64, position: i64, id: ResearcherId) {
    app.state
        .db
        .write(move |tx| researchers::link_paper(tx, PaperId(paper), position, id))
        .await
        .unwrap();
}

/// An unregistered profile (collected, nobody owns it).
async fn unregistered(app: &TestApp, name: &'static str) -> ResearcherId {
    let now = app.clock.now();
    app.state
        .db
        .write(move |tx| researchers::insert(tx, name, None, None, now))
        .await
        .unwrap()
}

/// A paper whose first author is bookable, second registered without
/// times, third unregistered.
struct Authors {
    paper: i64,
    bookable: Bookable,
    registered: Bookable,
    unregistered: ResearcherId,
}

async fn paper_with_three_kinds_of_author(app: &TestApp, admin: &str) -> Authors {
    let paper = app.sample_paper(admin).await;
    let bookable = bookable_researcher(app, "grace@uni.edu").await;
    let registered = registered_researcher(app, "noam@uni.edu").await;
    let unregistered = unregistered(app, "Niki Parmar").await;
    link(app, paper, 0, rid(&bookable)).await;
    link(app, paper, 1, rid(&registered)).await;
    link(app, paper, 2, unregistered).await;
    Authors {
        paper,
        bookable,
        registered,
        unregistered,
    }
}

#[tokio::test]
async fn a_bookable_authors_card_offers_a_session_instead_of_an_invitation() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let a = paper_with_three_kinds_of_author(&app, &admin).await;
    let (web, _) = signed_in_browser(&app, "reader@uni.edu").await;
    let page = html(&web, &app, &format!("/papers/{}", a.paper)).await;

    let (b, r, u) = (
        a.bookable.researcher_id,
        a.registered.researcher_id,
        a.unregistered.0,
    );
    assert!(
        page.contains(&format!(
            r#"href="/researchers/{b}#booking" role="button" class="small">Book a session</a>"#
        )),
        "{page}"
    );
    assert!(
        !page.contains(&format!(r#"action="/researchers/{b}/invite""#)),
        "no invitation for a bookable author"
    );
    assert!(
        !page.contains(&format!(r#"action="/researchers/{r}/invite""#))
            && page.contains("No bookable times published yet"),
        "a registered author without times is neither invited nor bookable"
    );
    assert!(page.contains(&format!(r#"action="/researchers/{u}/invite""#)));
    assert!(
        !page.contains("★") && !page.contains("Rating"),
        "no reviews yet: no rating, and no made-up one"
    );
    for (id, name) in [
        (b, "Ashish Vaswani"),
        (r, "Noam Shazeer"),
        (u, "Niki Parmar"),
    ] {
        assert!(
            page.contains(&format!(r#"<a href="/researchers/{id}">{name}</a>"#)),
            "the author list links {name} to the profile"
        );
    }

    let view: Value = app
        .get(&format!("/api/v1/researchers/{b}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (view["bookable"].clone(), view["rating"].clone()),
        (true.into(), Value::Null)
    );
    let view: Value = app
        .get(&format!("/api/v1/researchers/{r}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["bookable"], false);
}

#[tokio::test]
async fn how_a_collection_went_is_shown_to_admins_only() {
    let app = spawn_app().await;
    mount_openalex(&app, 1).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    app.collect_ok(&admin, &serde_json::json!({"paper_id": paper}))
        .await;
    app.run_collection().await;
    let path = format!("/papers/{paper}");

    let (reader, _) = signed_in_browser(&app, "reader@uni.edu").await;
    let page = html(&reader, &app, &path).await;
    for internal in ["Last collection", "steps failed", "partial", "admins only"] {
        assert!(!page.contains(internal), "{internal} shown to a reader");
    }
    let (admin_web, _) = logged_in_browser(&app, "admin@uni.edu").await;
    let page = html(&admin_web, &app, &path).await;
    assert!(page.contains("Last collection (admins only)"), "{page}");
}

#[tokio::test]
async fn search_marks_papers_with_bookable_authors_and_filters_to_them() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let a = paper_with_three_kinds_of_author(&app, &admin).await;
    let other =
        crate::collection::paper_with(&app, &admin, serde_json::json!([{"name": "Niki Parmar"}]))
            .await;
    link(&app, other, 0, a.unregistered).await;

    let all: Value = app.get("/api/v1/papers", None).await.json().await.unwrap();
    let flags: Vec<(i64, bool)> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_i64().unwrap(),
                p["has_bookable_author"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(flags, [(other, false), (a.paper, true)]);
    assert!(
        all["items"][0]["title"].is_string(),
        "the paper's fields stay"
    );

    let only: Value = app
        .get("/api/v1/papers?bookable=true&q=attention", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only["items"].as_array().unwrap().len(), 1);
    assert_eq!(only["items"][0]["id"], a.paper);
    let none: Value = app
        .get("/api/v1/papers?bookable=true&q=state", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(none["items"].as_array().unwrap().is_empty());
    let r = app.get("/api/v1/papers?bookable=maybe", None).await;
    assert_eq!(r.status(), 422, "a bad value is a clear error, not a 500");
    error_code(r).await;

    let web = crate::pages::browser();
    let page = html(&web, &app, "/papers").await;
    assert_eq!(page.matches("You can book an author").count(), 1, "{page}");
    assert!(page.contains(r#"name="bookable" value="true""#));
    let page = html(&web, &app, "/papers?bookable=true").await;
    assert!(page.contains("Attention Is All You Need") && !page.contains("The state of OA"));
    assert!(page.contains(r#"id="bookable-only" checked"#));
}

#[tokio::test]
async fn a_researcher_sees_a_preview_and_edit_availability_on_their_own_profile() {
    let app = spawn_app().await;
    let b = bookable_researcher(&app, "grace@uni.edu").await;
    let path = format!("/researchers/{}", b.researcher_id);

    let (own, _) = logged_in_browser(&app, "grace@uni.edu").await;
    let page = html(&own, &app, &path).await;
    assert!(
        !page.contains(r#"id="book-form""#),
        "no booking form for oneself"
    );
    assert!(!page.contains(r#"name="topic""#));
    assert!(page.contains(&format!(
        r#"href="/researchers/{}/availability" role="button" id="edit-availability">Edit availability</a>"#,
        b.researcher_id
    )));
    assert!(
        page.contains("Preview: what readers see") && page.contains("09:00–"),
        "{page}"
    );

    let (reader, _) = signed_in_browser(&app, "reader@uni.edu").await;
    let page = html(&reader, &app, &path).await;
    assert!(page.contains(r#"id="book-form""#) && !page.contains("edit-availability"));
}

#[tokio::test]
async fn a_researchers_account_page_links_the_profile_the_availability_and_the_settings() {
    let app = spawn_app().await;
    let b = registered_researcher(&app, "grace@uni.edu").await;
    let (web, _) = logged_in_browser(&app, "grace@uni.edu").await;
    let page = html(&web, &app, "/account").await;
    let id = b.researcher_id;
    for link in [
        format!(r#"href="/researchers/{id}" id="link-profile""#),
        format!(r#"href="/researchers/{id}/availability" id="link-availability""#),
        format!(r#"href="/researchers/{id}/availability#session-settings" id="link-settings""#),
    ] {
        assert!(page.contains(&link), "{link} missing");
    }
    let settings = html(&web, &app, &format!("/researchers/{id}/availability")).await;
    assert!(settings.contains(r#"id="session-settings""#));

    let (reader, _) = signed_in_browser(&app, "reader@uni.edu").await;
    let page = html(&reader, &app, "/account").await;
    assert!(
        !page.contains("researcher-links"),
        "a reader has no profile"
    );
}
