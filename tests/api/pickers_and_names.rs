//! Forms find objects by name instead of asking for ids (the pickers),
//! and texts read well with and without an institution name.

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};
use crate::honest_status::{html, invitable, post};
use crate::pages::{logged_in_browser, signed_in_browser};
use colloquy::clock::Clock;
use colloquy::db::repos::researchers;

#[tokio::test]
async fn forms_find_papers_accounts_and_profiles_by_name_instead_of_asking_for_ids() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = app.sample_paper(&admin).await;
    let id = invitable(&app, &admin, paper, "niki@uni.example").await;
    app.register("grace@uni.edu", "Grace Hopper").await;
    let twin = {
        let now = app.clock.now();
        app.state
            .db
            .write(move |tx| researchers::insert(tx, "Niki J. Parmar", None, None, now))
            .await
            .unwrap()
    };
    let (web, _) = logged_in_browser(&app, "admin@uni.edu").await;

    let page = html(&web, &app, "/admin/outreach").await;
    assert!(!page.contains(r#"name="paper_id" inputmode"#) && !page.contains("Paper number"));
    let page = html(&web, &app, "/admin/outreach?paper_q=attention").await;
    assert!(page.contains("Attention Is All You Need") && page.contains("Ashish Vaswani"));
    assert!(page.contains(&format!(
        r#"<input type="hidden" name="paper_id" value="{paper}">"#
    )));
    let done = post(
        &web,
        &app,
        "/admin/outreach/paper",
        &[("paper_id", paper.to_string())],
    )
    .await;
    assert!(done.contains("1 of 1 authors invited."), "{done}");
    let page = html(&web, &app, "/admin/outreach?paper_q=nothing+like+this").await;
    assert!(page.contains("Nothing matches"));

    let path = format!("/admin/researchers/{id}");
    let page = html(&web, &app, &path).await;
    assert!(!page.contains(r#"name="merge_id" inputmode"#) && !page.contains("(its number)"));
    let page = html(&web, &app, &format!("{path}?account_q=grace")).await;
    let grace: Value = app
        .get("/api/v1/admin/users", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let grace_id = grace["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "Grace Hopper")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert!(page.contains("Grace Hopper") && page.contains("grace@uni.edu"));
    assert!(page.contains(&format!(
        r#"<input type="hidden" name="account" value="{grace_id}">"#
    )));
    let page = html(&web, &app, &format!("{path}?account_q=grace@uni.edu")).await;
    assert!(
        page.contains(&format!(r#"name="account" value="{grace_id}""#)),
        "an exact address finds the account"
    );
    let page = html(&web, &app, &format!("{path}?merge_q=parmar")).await;
    assert!(page.contains(&format!(
        r#"<input type="hidden" name="merge_id" value="{twin}">"#
    )));
    assert!(
        !page.contains(&format!(r#"name="merge_id" value="{id}""#)),
        "not itself"
    );
    let linked = post(
        &web,
        &app,
        &format!("{path}/link"),
        &[("account", grace_id.to_string())],
    )
    .await;
    assert!(
        linked.contains("The account is linked to this profile."),
        "{linked}"
    );

    // Readers cannot use the admins' search.
    let (reader, _) = signed_in_browser(&app, "reader@uni.edu").await;
    let r = reader
        .get(app.url(&format!("{path}?account_q=grace")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = reader
        .get(app.url("/admin/outreach?paper_q=attention"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn without_an_institution_name_no_text_says_colloquy_twice() {
    let app = spawn_app().await;
    assert_eq!(app.state.config.institution.name, "");
    let web = crate::pages::browser();
    for path in [
        "/",
        "/papers",
        "/login",
        "/register",
        "/terms",
        "/no-such-page",
    ] {
        let page = web
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for bad in [
            "Colloquy · Colloquy",
            "Colloquy's Colloquy",
            "Colloquy's",
            "<small>Colloquy</small>",
        ] {
            assert!(!page.contains(bad), "{path}: {bad}");
        }
    }
    let home = web
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("<title>Find a paper · Colloquy</title>"),
        "{home}"
    );
    let terms: Value = app.get("/api/v1/terms", None).await.json().await.unwrap();
    assert!(terms["paragraphs"][0]
        .as_str()
        .unwrap()
        .starts_with("This service lets readers"));

    let app = spawn_app_with(|c| c.institution.name = "Uni Bonn".into()).await;
    let home = web
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("<title>Find a paper · Uni Bonn</title>"));
    assert!(home.contains("<strong>Uni Bonn</strong> <small>Colloquy</small>"));
    let terms: Value = app.get("/api/v1/terms", None).await.json().await.unwrap();
    assert!(terms["paragraphs"][0]
        .as_str()
        .unwrap()
        .starts_with("Uni Bonn runs this service"));

    // A name that is just the product's counts as unset.
    let app = spawn_app_with(|c| c.institution.name = "Colloquy".into()).await;
    let home = web
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("<title>Find a paper · Colloquy</title>")
            && !home.contains("<small>Colloquy</small>")
    );
}
