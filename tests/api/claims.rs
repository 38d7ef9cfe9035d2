//! Who owns a researcher profile: "This is me" for a confirmed address,
//! claim requests an admin decides, and who may call the admin endpoints.
//! The admins' own actions (e-mail, link, invite, merge) are in
//! `claims_admin.rs`; the helpers both use are here.

use colloquy::clock::Clock;
use colloquy::db::repos::researchers;
use colloquy::domain::researcher::{Field, FieldValue, Provenance};
use colloquy::domain::{PaperId, UserId};
use reqwest::Method;
use serde_json::{json, Value};

use crate::collection_fakes::AFFILIATION;
use crate::helpers::{error_code, spawn_app, TestApp};
use crate::outreach::{researcher, ADDRESS};
use crate::pages::logged_in_browser;

// ---------------------------------------------------------------------------
// Helpers.

/// The signed-in account's own view (`/api/v1/users/me`).
pub(crate) async fn me(app: &TestApp, token: &str) -> Value {
    let r = app.get("/api/v1/users/me", Some(token)).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub(crate) async fn user_id(app: &TestApp, token: &str) -> i64 {
    me(app, token).await["id"].as_i64().unwrap()
}

/// Marks an account's address as confirmed, as its verification link would.
pub(crate) fn confirm(app: &TestApp, user: i64) {
    app.db()
        .execute(
            "UPDATE users SET email_verified_at = '2026-01-01T00:00:00.000000Z' WHERE id = ?1",
            [user],
        )
        .unwrap();
}

/// Registers `email` with a confirmed address: (token, user id).
pub(crate) async fn verified(app: &TestApp, email: &str) -> (String, i64) {
    let token = app.token(email).await;
    let id = user_id(app, &token).await;
    confirm(app, id);
    (token, id)
}

/// A profile written straight to the database: `name` at OurResearch, with
/// a collected e-mail, an owner and a paper link (position 0) when given.
pub(crate) async fn profile(
    app: &TestApp,
    name: &str,
    email: Option<&str>,
    owner: Option<i64>,
    paper: Option<i64>,
) -> i64 {
    let (keys, now) = (app.state.keys.clone(), app.clock.now());
    let (name, email) = (name.to_string(), email.map(str::to_string));
    app.state
        .db
        .write(move |tx| {
            let id = researchers::insert(tx, &name, Some(AFFILIATION), None, now)?;
            if let Some(address) = email {
                let p = Provenance {
                    provider: "firecrawl".into(),
                    source_url: Some("https://example.org/profile".into()),
                };
                let v = FieldValue::Email {
                    address,
                    quality: None,
                };
                researchers::apply(tx, &keys, id, &[(Field::Email, v)], &p, now)?;
            }
            if let Some(p) = paper {
                researchers::link_paper(tx, PaperId(p), 0, id)?;
            }
            if let Some(u) = owner {
                assert!(researchers::claim(tx, id, UserId(u), now)?);
            }
            Ok(id.0)
        })
        .await
        .unwrap()
}

/// The account that owns a profile, from the database.
pub(crate) fn owner(app: &TestApp, rid: i64) -> Option<i64> {
    app.db()
        .query_row(
            "SELECT user_id FROM researchers WHERE id = ?1",
            [rid],
            |r| r.get(0),
        )
        .unwrap()
}

/// The profiles an account owns, from the database.
pub(crate) fn owned_by(app: &TestApp, user: i64) -> i64 {
    app.db()
        .query_row(
            "SELECT COUNT(*) FROM researchers WHERE user_id = ?1",
            [user],
            |r| r.get(0),
        )
        .unwrap()
}

/// The newest audit entry with this action: (actor, target, detail).
pub(crate) fn audited(app: &TestApp, action: &str) -> (Option<i64>, String, Value) {
    let (actor, target, detail): (Option<i64>, String, String) = app
        .db()
        .query_row(
            "SELECT actor_user_id, target, detail FROM audit_log WHERE action = ?1 ORDER BY id DESC LIMIT 1",
            [action],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap_or_else(|e| panic!("no {action} in the audit log: {e}"));
    (actor, target, serde_json::from_str(&detail).unwrap())
}

async fn claim(app: &TestApp, token: &str, rid: i64) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/researchers/{rid}/claim"),
        Some(token),
        &json!({"accept_terms": true}),
    )
    .await
}

pub(crate) async fn ask(app: &TestApp, token: &str, rid: i64, body: Value) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/researchers/{rid}/claim-requests"),
        Some(token),
        &body,
    )
    .await
}

async fn decide(app: &TestApp, admin: &str, id: i64, decision: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/admin/claim-requests/{id}/{decision}"),
        Some(admin),
        &json!({}),
    )
    .await
}

/// Whether the researcher page offers "This is me" to a signed-in account.
async fn offers_this_is_me(app: &TestApp, email: &str, rid: i64) -> bool {
    let (web, _) = logged_in_browser(app, email).await;
    let r = web
        .get(app.url(&format!("/researchers/{rid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap().contains(r#"id="this-is-me""#)
}

// ---------------------------------------------------------------------------
// "This is me".

#[tokio::test]
async fn a_confirmed_account_with_the_profiles_address_claims_it_and_becomes_a_researcher() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    // Ada's account has the profile's address, not yet confirmed.
    let ada = app.token(ADDRESS).await;
    let ada_id = user_id(&app, &ada).await;
    assert_eq!(me(&app, &ada).await["email_verified"], false);
    assert!(!offers_this_is_me(&app, ADDRESS, rid).await);
    let r = claim(&app, &ada, rid).await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "address_mismatch");
    assert_eq!(owner(&app, rid), None);

    confirm(&app, ada_id);
    assert!(offers_this_is_me(&app, ADDRESS, rid).await);
    // The terms must be accepted.
    let r = app
        .post_json(
            &format!("/api/v1/researchers/{rid}/claim"),
            Some(&ada),
            &json!({"accept_terms": false}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(owner(&app, rid), None);

    let r = claim(&app, &ada, rid).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["id"], rid);
    assert_eq!(owner(&app, rid), Some(ada_id));
    assert_eq!(me(&app, &ada).await["role"], "researcher");
    let (status, consent): (String, Option<String>) = app
        .db()
        .query_row(
            "SELECT status, listing_consent_at FROM researchers WHERE id = ?1",
            [rid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(status, "registered");
    assert!(consent.is_some(), "the listing consent is recorded");
    let (actor, target, detail) = audited(&app, "researcher.claimed");
    assert_eq!(actor, Some(ada_id));
    assert_eq!(target, format!("researcher:{rid}"));
    assert_eq!(detail["via"], "verified_address");
    // Claimed: the button is gone and a second claim is refused.
    assert!(!offers_this_is_me(&app, ADDRESS, rid).await);
    let r = claim(&app, &ada, rid).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "already_claimed");
}

#[tokio::test]
async fn other_addresses_admins_and_owned_profiles_cannot_be_claimed_directly() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;

    // A confirmed account with another address: no button, refused.
    let (other, _) = verified(&app, "other@uni.edu").await;
    assert!(!offers_this_is_me(&app, "other@uni.edu", rid).await);
    let r = claim(&app, &other, rid).await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "address_mismatch");
    // Anonymous visitors must sign in first.
    let r = app
        .post_json(
            &format!("/api/v1/researchers/{rid}/claim"),
            None,
            &json!({"accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 401);
    // An admin links profiles on the admin page instead.
    let admin = app.admin_token("admin@uni.edu").await;
    let r = claim(&app, &admin, rid).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "admin_account");
    assert!(!offers_this_is_me(&app, "admin@uni.edu", rid).await);
    assert_eq!(owner(&app, rid), None);

    // An account that owns another profile cannot take a second one.
    let (ada, ada_id) = verified(&app, ADDRESS).await;
    let mine = profile(&app, "A. A. Lovelace", None, Some(ada_id), None).await;
    assert!(!offers_this_is_me(&app, ADDRESS, rid).await);
    let r = claim(&app, &ada, rid).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "already_linked");

    // Once owned, even the profile's own (confirmed) address is refused.
    app.db()
        .execute("DELETE FROM researchers WHERE id = ?1", [mine])
        .unwrap();
    let (someone, someone_id) = verified(&app, "someone@uni.edu").await;
    let r = app
        .post_json(
            &format!("/api/v1/admin/researchers/{rid}/link"),
            Some(&admin),
            &json!({"user_id": someone_id}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(!offers_this_is_me(&app, ADDRESS, rid).await);
    let r = claim(&app, &ada, rid).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "already_claimed");
    assert_eq!(owner(&app, rid), Some(someone_id));
    // Unknown profiles are 404.
    assert_eq!(claim(&app, &someone, 999_999).await.status(), 404);
    assert!(!app
        .audit_actions()
        .contains(&"researcher.claimed".to_string()));
}

#[tokio::test]
async fn an_address_set_by_an_admin_lets_its_confirmed_owner_claim_the_profile() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let rid = profile(&app, "Ada Lovelace", None, None, None).await;
    let (ada, ada_id) = verified(&app, ADDRESS).await;
    // No address yet: nothing to match.
    let r = claim(&app, &ada, rid).await;
    assert_eq!(error_code(r).await, "address_mismatch");
    let r = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/admin/researchers/{rid}"),
            Some(&admin),
            &json!({"email": ADDRESS.to_uppercase()}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(offers_this_is_me(&app, ADDRESS, rid).await);
    let r = claim(&app, &ada, rid).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(owner(&app, rid), Some(ada_id));
    assert_eq!(me(&app, &ada).await["role"], "researcher");
}

// ---------------------------------------------------------------------------
// Claim requests.

#[tokio::test]
async fn a_claim_request_is_listed_for_admins_and_cannot_be_repeated_while_open() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let rid = profile(&app, "Ada Lovelace", Some(ADDRESS), None, None).await;
    let asker = app.token("ada.l@home.example").await;
    let asker_id = user_id(&app, &asker).await;

    let r = ask(
        &app,
        &asker,
        rid,
        json!({"message": "My ORCID is on the paper."}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let made: Value = r.json().await.unwrap();
    assert_eq!(made["status"], "open");
    assert_eq!(made["researcher_id"], rid);
    assert_eq!(made["user_id"], asker_id);
    assert_eq!(made["message"], "My ORCID is on the paper.");
    assert!(made.get("user_email").is_none(), "admins only: {made}");
    let r = ask(&app, &asker, rid, json!({})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "already_requested");
    assert_eq!(ask(&app, &asker, 999_999, json!({})).await.status(), 404);
    // The message is stored encrypted.
    let stored: String = app
        .db()
        .query_row("SELECT message_enc FROM claim_requests", [], |r| r.get(0))
        .unwrap();
    assert!(!stored.contains("ORCID"));

    let r = app.get("/api/v1/admin/claim-requests", Some(&admin)).await;
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 1, "{list:#}");
    assert_eq!(items[0]["id"], made["id"]);
    assert_eq!(items[0]["user_email"], "ada.l@home.example");
    assert_eq!(items[0]["user_email_verified"], false);
    assert_eq!(items[0]["researcher_name"], "Ada Lovelace");
    assert_eq!(items[0]["message"], "My ORCID is on the paper.");
    let r = app
        .get("/api/v1/admin/claim-requests?status=approved", Some(&admin))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    let r = app
        .get("/api/v1/admin/claim-requests?status=bogus", Some(&admin))
        .await;
    assert_eq!(r.status(), 422);
    let r = app.get("/api/v1/admin/claim-requests", Some(&asker)).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        audited(&app, "researcher.claim_requested").0,
        Some(asker_id)
    );
}

#[tokio::test]
async fn approving_a_request_gives_the_profile_to_the_requester_even_from_another_owner() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let (_, first_id) = verified(&app, "first@uni.edu").await;
    let rid = profile(&app, "Ada Lovelace", Some(ADDRESS), Some(first_id), None).await;
    let asker = app.token("ada.l@home.example").await;
    let asker_id = user_id(&app, &asker).await;
    let r = ask(
        &app,
        &asker,
        rid,
        json!({"message": "The other account is not me."}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    let r = decide(&app, &asker, id, "approve").await;
    assert_eq!(r.status(), 403, "a reader cannot approve their own request");
    let r = decide(&app, &admin, id, "approve").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["status"], "approved");
    assert!(view["decided_at"].is_string());
    assert_eq!(owner(&app, rid), Some(asker_id));
    assert_eq!(owned_by(&app, first_id), 0);
    assert_eq!(me(&app, &asker).await["role"], "researcher");
    let (actor, target, detail) = audited(&app, "researcher.claim_approved");
    assert_eq!(actor, Some(user_id(&app, &admin).await));
    assert_eq!(target, format!("researcher:{rid}"));
    assert_eq!(detail["previous_owner"], first_id);
    assert_eq!(detail["user_id"], asker_id);
    assert_eq!(detail["request_id"], id);

    for decision in ["approve", "refuse"] {
        let r = decide(&app, &admin, id, decision).await;
        assert_eq!(r.status(), 409, "{decision}");
        assert_eq!(error_code(r).await, "already_decided");
    }
    assert_eq!(owner(&app, rid), Some(asker_id));
    let r = app
        .get("/api/v1/admin/claim-requests?status=approved", Some(&admin))
        .await;
    let list: Value = r.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id);
}

#[tokio::test]
async fn refusing_a_request_leaves_the_owner_as_it_was() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let (_, first_id) = verified(&app, "first@uni.edu").await;
    let owned = profile(&app, "Ada Lovelace", None, Some(first_id), None).await;
    let unowned = profile(&app, "Charles Babbage", None, None, None).await;
    let asker = app.token("asker@uni.edu").await;
    let asker_id = user_id(&app, &asker).await;
    let mut ids = Vec::new();
    for rid in [owned, unowned] {
        let r = ask(&app, &asker, rid, json!({})).await;
        assert_eq!(r.status(), 201);
        ids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    for id in &ids {
        let r = decide(&app, &admin, *id, "refuse").await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "refused");
        let r = decide(&app, &admin, *id, "approve").await;
        assert_eq!(error_code(r).await, "already_decided");
    }
    assert_eq!(owner(&app, owned), Some(first_id));
    assert_eq!(owner(&app, unowned), None);
    assert_eq!(me(&app, &asker).await["role"], "user");
    let (_, _, detail) = audited(&app, "researcher.claim_refused");
    assert_eq!(detail["user_id"], asker_id);
    assert!(detail.get("previous_owner").is_none());
    // Once refused, the account may ask again.
    assert_eq!(ask(&app, &asker, owned, json!({})).await.status(), 201);
}

// ---------------------------------------------------------------------------
// Who may do what.

#[tokio::test]
async fn admin_endpoints_refuse_readers_and_unknown_ids_are_not_found() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let reader = app.token("reader@uni.edu").await;
    let reader_id = user_id(&app, &reader).await;
    let a = profile(&app, "Ada Lovelace", None, None, None).await;
    let b = profile(&app, "A. Lovelace", None, None, None).await;
    let r = ask(&app, &reader, a, json!({})).await;
    let request = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let review: i64 = app
        .db()
        .query_row(
            "INSERT INTO merge_reviews (first_id, second_id, reason, created_at)
             VALUES (?1, ?2, 'same email', '2026-01-01T00:00:00.000000Z') RETURNING id",
            [a, b],
            |r| r.get(0),
        )
        .unwrap();
    let calls = |rid: i64, request: i64, review: i64| {
        vec![
            (
                Method::PATCH,
                format!("/api/v1/admin/researchers/{rid}"),
                json!({"email": "x@uni.example"}),
            ),
            (
                Method::POST,
                format!("/api/v1/admin/researchers/{rid}/link"),
                json!({"user_id": reader_id}),
            ),
            (
                Method::POST,
                format!("/api/v1/admin/researchers/{rid}/merge"),
                json!({"merge_id": b}),
            ),
            (
                Method::POST,
                format!("/api/v1/admin/merge-reviews/{review}/dismiss"),
                json!({}),
            ),
            (
                Method::POST,
                format!("/api/v1/admin/claim-requests/{request}/approve"),
                json!({}),
            ),
            (
                Method::POST,
                format!("/api/v1/admin/claim-requests/{request}/refuse"),
                json!({}),
            ),
        ]
    };
    for (method, path, body) in calls(a, request, review) {
        let r = app
            .send_json(method.clone(), &path, Some(&reader), &body)
            .await;
        assert_eq!(r.status(), 403, "{method} {path}");
        assert_eq!(error_code(r).await, "forbidden", "{method} {path}");
        let r = app.send_json(method.clone(), &path, None, &body).await;
        assert_eq!(r.status(), 401, "{method} {path}");
    }
    for path in [
        "/api/v1/admin/claim-requests",
        "/api/v1/admin/merge-reviews",
    ] {
        assert_eq!(app.get(path, Some(&reader)).await.status(), 403, "{path}");
        assert_eq!(app.get(path, Some(&admin)).await.status(), 200, "{path}");
    }
    // Nothing changed.
    assert_eq!(owner(&app, a), None);
    assert_eq!(owned_by(&app, reader_id), 0);
    let open: (i64, i64) = app
        .db()
        .query_row(
            "SELECT (SELECT COUNT(*) FROM claim_requests WHERE status = 'open'),
                    (SELECT COUNT(*) FROM merge_reviews WHERE status = 'open')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(open, (1, 1));

    for (method, path, body) in calls(999_999, 999_998, 999_997) {
        let r = app
            .send_json(method.clone(), &path, Some(&admin), &body)
            .await;
        assert_eq!(r.status(), 404, "{method} {path}");
        assert_eq!(error_code(r).await, "not_found", "{method} {path}");
    }
    assert_eq!(claim(&app, &reader, 999_999).await.status(), 404);
    assert_eq!(ask(&app, &reader, 999_999, json!({})).await.status(), 404);
}
