//! Merging two profiles of one person: collection asks an admin before
//! merging two claimed ones, and an admin's merge moves everything over,
//! or changes nothing when it cannot be done.

use serde_json::{json, Value};

use crate::claims::{ask, audited, owned_by, owner, profile, user_id, verified};
use crate::claims_admin::{admin_view, count, exists, rows, set_email};
use crate::collection_fakes::*;
use crate::helpers::{error_code, spawn_app, TestApp};
use crate::outreach::{outreach, ADDRESS};
use crate::sessions_fixtures::{
    act, bookable_researcher, booked, day_at_ten, registered_researcher, slot_starts,
};

async fn merge(app: &TestApp, token: &str, keep: i64, drop: i64) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/admin/researchers/{keep}/merge"),
        Some(token),
        &json!({"merge_id": drop}),
    )
    .await
}

/// Two claimed profiles of Jason Priem: `a` has the address his profile
/// page shows, `b` is the author of a new paper with another address.
/// Collecting the paper finds `a`'s address for `b`. Returns
/// (a, b, a's owner, b's owner, admin token).
async fn claimed_lookalikes(app: &TestApp) -> (i64, i64, i64, i64, String) {
    mount_all(app, Some(PAGE_EMAIL)).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let (_, owner_a) = verified(app, "priem@work.example").await;
    let (_, owner_b) = verified(app, "priem@home.example").await;
    let paper = priem_paper(app, &admin).await;
    let a = profile(app, "J. Priem", Some(PAGE_EMAIL), Some(owner_a), None).await;
    let b = profile(
        app,
        NAME,
        Some("priem@home.example"),
        Some(owner_b),
        Some(paper),
    )
    .await;
    let job = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    assert_eq!(app.job(&admin, job).await["status"], "completed");

    // Nothing is merged: an admin is asked.
    let r = app.get("/api/v1/admin/merge-reviews", Some(&admin)).await;
    assert_eq!(r.status(), 200);
    let reviews: Value = r.json().await.unwrap();
    assert_eq!(reviews.as_array().unwrap().len(), 1, "{reviews:#}");
    assert_eq!(reviews[0]["first_id"], a);
    assert_eq!(reviews[0]["second_id"], b);
    assert_eq!(reviews[0]["first_name"], "J. Priem");
    assert_eq!(reviews[0]["second_name"], NAME);
    assert_eq!(reviews[0]["reason"], "same email");
    assert!(exists(app, a) && exists(app, b));
    assert_eq!(
        (owner(app, a), owner(app, b)),
        (Some(owner_a), Some(owner_b))
    );
    assert_eq!(
        admin_view(app, &admin, b).await["email"],
        "priem@home.example"
    );
    assert_eq!(rows(app, "researcher_merges"), 0);
    (a, b, owner_a, owner_b, admin)
}

#[tokio::test]
async fn collection_asks_an_admin_before_merging_two_claimed_profiles_and_the_admin_merges() {
    let app = spawn_app().await;
    let (a, b, owner_a, owner_b, admin) = claimed_lookalikes(&app).await;
    let r = merge(&app, &admin, a, b).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["id"], a);

    let r = app.get("/api/v1/admin/merge-reviews", Some(&admin)).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    assert!(!exists(&app, b));
    assert_eq!(owner(&app, a), Some(owner_a));
    assert_eq!(
        owned_by(&app, owner_b),
        0,
        "the merged profile's owner loses it"
    );
    let links = "SELECT COUNT(*) FROM paper_researchers WHERE researcher_id = ?1";
    assert_eq!(count(&app, links, a), 1);
    let (actor, target, detail) = audited(&app, "researcher.merged");
    assert_eq!(actor, Some(user_id(&app, &admin).await));
    assert_eq!(target, format!("researcher:{a}"));
    assert_eq!(detail["kept"], a);
    assert_eq!(detail["merged"], b);
    assert_eq!(detail["kept_owner"], owner_a);
    assert_eq!(detail["merged_owner"], owner_b);
}

#[tokio::test]
async fn a_review_decided_by_a_merge_stays_on_record_with_who_decided() {
    let app = spawn_app().await;
    let (a, b, _, _, admin) = claimed_lookalikes(&app).await;
    assert_eq!(merge(&app, &admin, a, b).await.status(), 200);
    // Like a dismissed review, a merged one keeps its decision: status
    // `merged`, the admin who decided and when.
    let decided: Option<(String, Option<i64>, Option<String>)> = app
        .db()
        .query_row(
            "SELECT status, decided_by, decided_at FROM merge_reviews WHERE first_id = ?1",
            [a],
            |r| Ok(Some((r.get(0)?, r.get(1)?, r.get(2)?))),
        )
        .unwrap_or(None);
    let (status, by, at) = decided.expect("the decided review row");
    assert_eq!(status, "merged");
    assert_eq!(by, Some(user_id(&app, &admin).await));
    assert!(at.is_some());
}

#[tokio::test]
async fn a_merge_review_can_be_dismissed_and_both_profiles_stay() {
    let app = spawn_app().await;
    let (a, b, owner_a, owner_b, admin) = claimed_lookalikes(&app).await;
    let reviews: Value = app
        .get("/api/v1/admin/merge-reviews", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let id = reviews[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/admin/merge-reviews/{id}/dismiss");
    let r = app.post_json(&path, Some(&admin), &json!({})).await;
    assert_eq!(r.status(), 204);
    let r = app.get("/api/v1/admin/merge-reviews", Some(&admin)).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM merge_reviews WHERE status = 'dismissed' AND id = ?1",
            id
        ),
        1
    );
    assert!(exists(&app, a) && exists(&app, b));
    assert_eq!(
        (owner(&app, a), owner(&app, b)),
        (Some(owner_a), Some(owner_b))
    );
    let (_, _, detail) = audited(&app, "researcher.merge_dismissed");
    assert_eq!(
        (detail["first"].clone(), detail["second"].clone()),
        (json!(a), json!(b))
    );
    // Decided once: a second dismissal finds no open review.
    assert_eq!(
        app.post_json(&path, Some(&admin), &json!({}))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn an_admin_merge_moves_sessions_settings_outreach_interest_and_claim_requests() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    // The keeper has an owner and nothing saved; the duplicate has it all.
    let keep = registered_researcher(&app, "grace@yale.example").await;
    let drop = bookable_researcher(&app, "hopper@navy.example").await;
    let (k, d) = (keep.researcher_id, drop.researcher_id);
    let reader = app.token("reader@uni.edu").await;
    let start = day_at_ten(&app, 2);
    let session = booked(&app, &reader, d, start).await;
    let r = outreach(&app, &reader, json!({"researcher_id": d})).await;
    assert_eq!(error_code(r).await, "already_registered");
    let claimant = app.token("claimant@uni.edu").await;
    assert_eq!(ask(&app, &claimant, d, json!({})).await.status(), 201);
    let tables = [
        "consulting_sessions",
        "researcher_settings",
        "availability",
        "outreach",
        "reader_interest",
        "claim_requests",
    ];
    let of = |table: &str, rid: i64| {
        count(
            &app,
            &format!("SELECT COUNT(*) FROM {table} WHERE researcher_id = ?1"),
            rid,
        )
    };
    let before: Vec<i64> = tables.iter().map(|t| of(t, d)).collect();
    assert!(before.iter().all(|n| *n > 0), "{before:?}");

    let r = merge(&app, &admin, k, d).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    for (table, n) in tables.iter().zip(&before) {
        assert_eq!(of(table, k), *n, "{table} moved to the kept profile");
        assert_eq!(of(table, d), 0, "{table}");
    }
    assert!(!exists(&app, d));
    assert_eq!(owner(&app, k), Some(keep.user_id));
    assert_eq!(owned_by(&app, drop.user_id), 0);
    let (_, _, detail) = audited(&app, "researcher.merged");
    assert_eq!(
        (detail["kept"].clone(), detail["merged"].clone()),
        (json!(k), json!(d))
    );
    // The keeper's owner now answers the session, and its times are booked.
    let r = act(&app, &keep.token, session, "accept", json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let free = slot_starts(
        &app,
        k,
        start - chrono::Duration::hours(2),
        start + chrono::Duration::hours(4),
        60,
    )
    .await;
    assert!(!free.is_empty() && !free.contains(&start), "{free:?}");
}

#[tokio::test]
async fn an_unowned_profile_cannot_absorb_an_owned_one() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let (_, ada) = verified(&app, "ada@uni.example").await;
    let owned = profile(&app, "Ada Lovelace", None, Some(ada), None).await;
    let unowned = profile(&app, "A. Lovelace", Some(ADDRESS), None, None).await;
    let r = merge(&app, &admin, unowned, owned).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "merge_conflict");
    assert!(exists(&app, owned) && exists(&app, unowned));
    assert_eq!(owner(&app, owned), Some(ada));
    // Itself, or a profile that does not exist, is no merge.
    assert_eq!(merge(&app, &admin, owned, owned).await.status(), 422);
    assert_eq!(merge(&app, &admin, owned, 999_999).await.status(), 422);
    // The other way round works, and the keeper gets the missing e-mail.
    assert_eq!(merge(&app, &admin, owned, unowned).await.status(), 200);
    assert!(!exists(&app, unowned));
    assert_eq!(owner(&app, owned), Some(ada));
    assert_eq!(admin_view(&app, &admin, owned).await["email"], ADDRESS);
}

#[tokio::test]
async fn an_address_set_by_hand_keeps_who_set_it_when_a_merge_moves_it() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let admin_id = user_id(&app, &admin).await;
    let keep = profile(&app, "Ada Lovelace", None, None, None).await;
    let drop = profile(&app, "A. Lovelace", None, None, None).await;
    let r = set_email(&app, &admin, drop, ADDRESS).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(merge(&app, &admin, keep, drop).await.status(), 200);
    let kept = admin_view(&app, &admin, keep).await;
    assert_eq!(kept["email"], ADDRESS);
    assert_eq!(kept["sources"]["email"]["provider"], "admin");
    assert_eq!(kept["sources"]["email"]["set_by"], admin_id);
}

#[tokio::test]
async fn profiles_with_live_sessions_at_the_same_start_are_not_merged_and_nothing_changes() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let keep = bookable_researcher(&app, "grace@yale.example").await;
    let drop = bookable_researcher(&app, "hopper@navy.example").await;
    let (k, d) = (keep.researcher_id, drop.researcher_id);
    let start = day_at_ten(&app, 2);
    let first = app.token("first@uni.edu").await;
    let second = app.token("second@uni.edu").await;
    booked(&app, &first, k, start).await;
    let clash = booked(&app, &second, d, start).await;

    let r = merge(&app, &admin, k, d).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "merge_conflict");
    assert!(exists(&app, k) && exists(&app, d));
    assert_eq!(
        owner(&app, d),
        Some(drop.user_id),
        "the owner is not released"
    );
    assert_eq!(owner(&app, k), Some(keep.user_id));
    let sessions = "SELECT COUNT(*) FROM consulting_sessions WHERE researcher_id = ?1";
    assert_eq!((count(&app, sessions, k), count(&app, sessions, d)), (1, 1));
    assert_eq!(rows(&app, "researcher_merges"), 0);
    assert!(!app
        .audit_actions()
        .contains(&"researcher.merged".to_string()));

    // Once one of them is declined, the merge goes through.
    let r = act(&app, &drop.token, clash, "decline", json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(merge(&app, &admin, k, d).await.status(), 200);
    assert_eq!(count(&app, sessions, k), 2);
    assert_eq!(owned_by(&app, drop.user_id), 0);
}
