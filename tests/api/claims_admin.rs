//! The admins' profile-ownership actions: set a researcher's e-mail by
//! hand (which collection never overwrites), link an account, and invite
//! by e-mail from the admin page. Merges are in `claims_merges.rs`.

use colloquy::clock::Clock;
use reqwest::Method;
use serde_json::{json, Value};

use crate::claims::{audited, me, owned_by, owner, profile, user_id, verified};
use crate::collection_fakes::*;
use crate::helpers::{error_code, spawn_app, TestApp};
use crate::outreach::{register, register_link, ADDRESS};
use crate::pages::{logged_in_browser, signed_in_browser};
use crate::sessions_fixtures::mails;

pub(crate) async fn set_email(
    app: &TestApp,
    token: &str,
    rid: i64,
    email: &str,
) -> reqwest::Response {
    app.send_json(
        Method::PATCH,
        &format!("/api/v1/admin/researchers/{rid}"),
        Some(token),
        &json!({"email": email}),
    )
    .await
}

async fn link(app: &TestApp, token: &str, rid: i64, user: i64) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/admin/researchers/{rid}/link"),
        Some(token),
        &json!({"user_id": user}),
    )
    .await
}

/// The profile as an admin sees it (with the e-mail and its sources).
pub(crate) async fn admin_view(app: &TestApp, admin: &str, rid: i64) -> Value {
    let r = app
        .get(&format!("/api/v1/researchers/{rid}"), Some(admin))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub(crate) fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    app.db().query_row(sql, [id], |r| r.get(0)).unwrap()
}

/// All rows of a table.
pub(crate) fn rows(app: &TestApp, table: &str) -> i64 {
    app.db()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

pub(crate) fn exists(app: &TestApp, rid: i64) -> bool {
    count(app, "SELECT COUNT(*) FROM researchers WHERE id = ?1", rid) == 1
}

// ---------------------------------------------------------------------------
// The e-mail, set by hand.

#[tokio::test]
async fn an_admin_sets_a_researchers_email_with_provenance_and_an_audit_entry() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let admin_id = user_id(&app, &admin).await;
    let reader = app.token("reader@uni.edu").await;
    let rid = profile(
        &app,
        "Ada Lovelace",
        Some("old@analytical.example"),
        None,
        None,
    )
    .await;

    let r = set_email(&app, &reader, rid, ADDRESS).await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "forbidden");
    let r = set_email(&app, &admin, rid, ADDRESS).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["id"], rid);
    assert_eq!(view["email"], ADDRESS);
    let source = &view["sources"]["email"];
    assert_eq!(source["provider"], "admin", "{view:#}");
    assert_eq!(source["set_by"], admin_id);
    assert!(source["source_url"].is_null());
    assert_eq!(admin_view(&app, &admin, rid).await["email"], ADDRESS);
    let (actor, target, detail) = audited(&app, "researcher.email_set");
    assert_eq!(actor, Some(admin_id));
    assert_eq!(target, format!("researcher:{rid}"));
    assert_eq!(detail["replaced"], true);
    let edited: String = app
        .db()
        .query_row(
            "SELECT edited_fields FROM researchers WHERE id = ?1",
            [rid],
            |r| r.get(0),
        )
        .unwrap();
    assert!(edited.contains("email"), "{edited}");
    // Its own address again is no conflict.
    assert_eq!(set_email(&app, &admin, rid, ADDRESS).await.status(), 200);

    // A link mailed to the old address stops working once it changes.
    let mailed = register_link(&app, rid);
    let r = set_email(&app, &admin, rid, "ada@newhome.example").await;
    assert_eq!(r.status(), 200);
    let r = register(&app, &mailed).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "link_recipient_changed");
    assert_eq!(owner(&app, rid), None);
}

#[tokio::test]
async fn setting_an_email_is_refused_when_in_use_suppressed_opted_out_or_malformed() {
    use colloquy::db::repos::{outreach as repo, researchers};
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let a = profile(&app, "Ada Lovelace", Some(ADDRESS), None, None).await;
    let b = profile(&app, "A. Lovelace", None, None, None).await;
    let c = profile(&app, "Charles Babbage", None, None, None).await;
    let (keys, now) = (app.state.keys.clone(), app.clock.now());
    app.state
        .db
        .write(move |tx| {
            let gone = colloquy::domain::Email::parse("gone@uni.example").unwrap();
            repo::suppress(tx, &researchers::email_index(&keys, &gone), "opt_out", now)?;
            researchers::set_status(
                tx,
                colloquy::domain::ResearcherId(c),
                colloquy::domain::ResearcherStatus::OptedOut,
                now,
            )
        })
        .await
        .unwrap();

    let r = set_email(&app, &admin, b, &ADDRESS.to_uppercase()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "email_in_use");
    let r = set_email(&app, &admin, b, "gone@uni.example").await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "opted_out");
    let r = set_email(&app, &admin, c, "fresh@uni.example").await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "opted_out");
    for bad in ["not an address", "", "ada@"] {
        let r = set_email(&app, &admin, b, bad).await;
        assert_eq!(r.status(), 422, "{bad:?}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["fields"]["email"].is_string(), "{body}");
    }
    for rid in [b, c] {
        assert!(admin_view(&app, &admin, rid).await["email"].is_null());
    }
    assert_eq!(admin_view(&app, &admin, a).await["email"], ADDRESS);
    assert!(!app
        .audit_actions()
        .contains(&"researcher.email_set".to_string()));
}

#[tokio::test]
async fn collection_never_overwrites_an_email_an_admin_set() {
    let app = spawn_app().await;
    // The profile page shows another address (RocketReach is not asked).
    mount_all(&app, Some(PAGE_EMAIL)).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    let rid = profile(&app, NAME, None, None, Some(paper)).await;
    assert_eq!(
        set_email(&app, &admin, rid, "jason@home.example")
            .await
            .status(),
        200
    );
    let job = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let job = app.job(&admin, job).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(job["researcher_ids"], json!([rid]));

    let view = admin_view(&app, &admin, rid).await;
    assert_eq!(view["bio"], BIO, "collection ran: {view:#}");
    assert_eq!(view["email"], "jason@home.example");
    assert_eq!(view["sources"]["email"]["provider"], "admin");
}

#[tokio::test]
async fn a_duplicate_found_by_collection_does_not_replace_an_email_an_admin_set() {
    let app = spawn_app().await;
    // The profile page shows the address of an older, unclaimed duplicate.
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    mount_rocketreach(&app, 0).await;
    // After the merge the kept profile's name ("J. Priem") is searched.
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/search"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(tavily_answer()))
        .mount(&app.tavily)
        .await;
    let admin = app.admin_token("admin@uni.edu").await;
    let older = profile(&app, "J. Priem", Some(PAGE_EMAIL), None, None).await;
    let paper = priem_paper(&app, &admin).await;
    let rid = profile(&app, NAME, None, None, Some(paper)).await;
    let r = set_email(&app, &admin, rid, "jason@home.example").await;
    assert_eq!(r.status(), 200);
    let job = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let job = app.job(&admin, job).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    // The two are one person now...
    let kept = job["researcher_ids"][0].as_i64().unwrap();
    assert!([older, rid].contains(&kept));
    assert_eq!(rows(&app, "researchers"), 1);
    // ...whose address is still the one the admin set.
    let view = admin_view(&app, &admin, kept).await;
    assert_eq!(view["email"], "jason@home.example", "{view:#}");
    assert_eq!(view["sources"]["email"]["provider"], "admin");
}

#[tokio::test]
async fn collection_never_overwrites_the_email_of_a_claimed_profile() {
    let app = spawn_app().await;
    mount_all(&app, Some(PAGE_EMAIL)).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let (_, jason) = verified(&app, "jason@home.example").await;
    let paper = priem_paper(&app, &admin).await;
    let rid = profile(
        &app,
        NAME,
        Some("jason@home.example"),
        Some(jason),
        Some(paper),
    )
    .await;
    let job = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    assert_eq!(app.job(&admin, job).await["status"], "completed");

    let view = admin_view(&app, &admin, rid).await;
    assert_eq!(view["bio"], BIO, "collection ran: {view:#}");
    assert_eq!(view["email"], "jason@home.example");
    assert_eq!(view["sources"]["email"]["provider"], "firecrawl");
    assert_eq!(
        view["sources"]["email"]["source_url"],
        "https://example.org/profile"
    );
    assert_eq!(owner(&app, rid), Some(jason));
}

// ---------------------------------------------------------------------------
// Linking an account.

#[tokio::test]
async fn an_admin_links_an_account_which_becomes_a_researcher_and_an_admin_stays_admin() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let admin_id = user_id(&app, &admin).await;
    let reader = app.token("reader@uni.edu").await;
    let reader_id = user_id(&app, &reader).await;
    let other = app.token("other@uni.edu").await;
    let other_id = user_id(&app, &other).await;
    let a = profile(&app, "Ada Lovelace", None, None, None).await;
    let b = profile(&app, "Charles Babbage", None, None, None).await;

    let r = link(&app, &reader, a, reader_id).await;
    assert_eq!(r.status(), 403);
    assert_eq!(owner(&app, a), None);
    let r = link(&app, &admin, a, reader_id).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["id"], a);
    assert_eq!(owner(&app, a), Some(reader_id));
    assert_eq!(me(&app, &reader).await["role"], "researcher");
    let (actor, target, detail) = audited(&app, "researcher.linked_by_admin");
    assert_eq!(actor, Some(admin_id));
    assert_eq!(target, format!("researcher:{a}"));
    assert_eq!(detail["user_id"], reader_id);
    assert!(detail["previous_owner"].is_null(), "{detail}");

    // Given to another account, the previous owner is recorded.
    assert_eq!(link(&app, &admin, a, other_id).await.status(), 200);
    assert_eq!(owner(&app, a), Some(other_id));
    assert_eq!(owned_by(&app, reader_id), 0);
    assert_eq!(me(&app, &other).await["role"], "researcher");
    let (_, _, detail) = audited(&app, "researcher.linked_by_admin");
    assert_eq!(detail["previous_owner"], reader_id);

    // An admin linked to a profile stays an admin.
    assert_eq!(link(&app, &admin, b, admin_id).await.status(), 200);
    assert_eq!(owner(&app, b), Some(admin_id));
    assert_eq!(me(&app, &admin).await["role"], "admin");
    // No such account.
    let c = profile(&app, "Mary Somerville", None, None, None).await;
    assert_eq!(link(&app, &admin, c, 999_999).await.status(), 422);
    assert_eq!(owner(&app, c), None);
}

#[tokio::test]
async fn an_account_that_owns_another_profile_cannot_be_linked_again() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let reader = app.token("reader@uni.edu").await;
    let reader_id = user_id(&app, &reader).await;
    let a = profile(&app, "Ada Lovelace", None, Some(reader_id), None).await;
    let b = profile(&app, "Charles Babbage", None, None, None).await;
    let r = link(&app, &admin, b, reader_id).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "already_linked");
    assert_eq!(owner(&app, b), None);
    assert_eq!(owner(&app, a), Some(reader_id));
    // Linking it to its own profile again changes nothing.
    assert_eq!(link(&app, &admin, a, reader_id).await.status(), 200);
    assert_eq!(owner(&app, a), Some(reader_id));
}

// ---------------------------------------------------------------------------
// Invite by e-mail (the admin page).

#[tokio::test]
async fn inviting_by_email_from_the_admin_page_sets_the_address_and_queues_the_invitation() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let admin_id = user_id(&app, &admin).await;
    let paper = paper_with(
        &app,
        &admin,
        json!([{"name": "Ada Lovelace", "affiliation": AFFILIATION}]),
    )
    .await;
    let rid = profile(&app, "Ada Lovelace", None, None, Some(paper)).await;
    let path = format!("/admin/researchers/{rid}/invite-by-email");
    let back = format!("/admin/researchers/{rid}");
    let form = |csrf: String| {
        vec![
            ("csrf_token", csrf),
            ("email", ADDRESS.to_string()),
            ("paper_id", paper.to_string()),
            ("return_to", back.clone()),
        ]
    };

    // A reader's session is refused.
    let (web, csrf) = signed_in_browser(&app, "reader@uni.edu").await;
    let r = web
        .post(app.url(&path))
        .form(&form(csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(mails(&app, "outreach_request").is_empty());

    let (web, csrf) = logged_in_browser(&app, "admin@uni.edu").await;
    let r = web
        .post(app.url(&path))
        .form(&form(csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.url().path(), back);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("The invitation is held: an admin must send it")
            && page.contains(r#"href="/admin/mail?status=held""#)
            && !page.contains("on its way"),
        "no mail server: the page says the mail is held, and where"
    );

    let sent = mails(&app, "outreach_request");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].recipient, ADDRESS);
    assert_eq!(sent[0].status, "held", "no SMTP server: the mail is held");
    let view = admin_view(&app, &admin, rid).await;
    assert_eq!(view["email"], ADDRESS);
    assert_eq!(view["sources"]["email"]["provider"], "admin");
    assert_eq!(view["sources"]["email"]["set_by"], admin_id);
    let (status, invitations): (String, i64) = app
        .db()
        .query_row(
            "SELECT status, (SELECT COUNT(*) FROM outreach o WHERE o.researcher_id = r.id
                 AND o.kind = 'invitation' AND o.paper_id = ?2) FROM researchers r WHERE id = ?1",
            [rid, paper],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), invitations), ("invited", 1));
    let actions = app.audit_actions();
    let at = |a: &str| actions.iter().position(|x| x == a).unwrap();
    assert!(at("researcher.email_set") < at("outreach.invited"));
}
