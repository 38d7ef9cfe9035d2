//! Erasure of a researcher profile whose person never signed up
//! (`DELETE /api/v1/admin/data-subjects/researcher/{id}`): the profile's
//! personal data goes from every table, its papers show the author as
//! removed at their request, its address goes on the suppression list and
//! its ORCID iD and OpenAlex id on the do-not-collect list, so collecting
//! the same paper, or another paper of the same person, never builds it
//! again (no row, no authorship, no paid lookup). Refusals and the
//! password re-entry rule are here too; the page is in
//! `data_rights_erasure_pages.rs`.

use chrono::Duration;
use colloquy::clock::Clock;
use reqwest::Method;
use serde_json::{json, Value};

use crate::claims::{ask, profile, user_id, verified};
use crate::collection_fakes::*;
use crate::helpers::{error_code, spawn_app, spawn_app_with, TestApp, PASSWORD};

pub(crate) async fn erase(app: &TestApp, token: &str, rid: i64) -> reqwest::Response {
    app.send_json(
        Method::DELETE,
        &format!("/api/v1/admin/data-subjects/researcher/{rid}"),
        Some(token),
        &json!({}),
    )
    .await
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.db().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Rows of any table (the full-text index's own tables aside) with a
/// text value containing `needle`, as "table.column".
fn holding(app: &TestApp, needle: &str) -> Vec<String> {
    let db = app.db();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'papers_fts%' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut found = Vec::new();
    for t in tables {
        let columns: Vec<String> = db
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .unwrap()
            .query_map([&t], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for c in columns {
            let sql = format!("SELECT COUNT(*) FROM \"{t}\" WHERE CAST(\"{c}\" AS TEXT) LIKE ?1");
            let n: i64 = db
                .query_row(&sql, [format!("%{needle}%")], |r| r.get(0))
                .unwrap();
            if n > 0 {
                found.push(format!("{t}.{c}"));
            }
        }
    }
    found
}

async fn collected_job(app: &TestApp, admin: &str, paper: i64) -> Value {
    let job = app.collect_ok(admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    app.job(admin, job).await
}

#[tokio::test]
async fn an_erased_profile_is_gone_everywhere_and_collection_never_rebuilds_it() {
    let app = spawn_app().await;
    // Each provider is asked exactly this often over the whole story: the
    // first collection, then one OpenAlex search that recognises the
    // person on another paper (and nothing else is looked up for them).
    mount_openalex_search(&app, NAME, openalex_search_answer(NAME), 2).await;
    mount_openalex_works(&app, 1).await;
    mount_firecrawl_search(&app, None, 1).await;
    mount_rocketreach(&app, 1).await;
    mount_tavily(&app, 1).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let reader = app.token("reader@uni.edu").await;
    let paper = priem_paper(&app, &reader).await;
    let job = collected_job(&app, &admin, paper).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    let rid = job["researcher_ids"][0].as_i64().unwrap();

    // What a collected profile gathers: an invitation (with its mail), a
    // reader's interest, someone's claim.
    let r = app
        .post_json(
            "/api/v1/consulting/outreach",
            Some(&reader),
            &json!({"researcher_id": rid, "paper_id": paper, "message": "About the OA study"}),
        )
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let (claimer, _) = verified(&app, "claimer@uni.edu").await;
    assert_eq!(ask(&app, &claimer, rid, json!({})).await.status(), 201);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM mail_outbox WHERE template = 'outreach_request'"
        ),
        1
    );
    let audit_before = count(&app, "SELECT COUNT(*) FROM audit_log");

    let r = erase(&app, &admin, rid).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let done: Value = r.json().await.unwrap();
    assert_eq!(
        done,
        json!({"researcher_id": rid, "address_suppressed": true, "identities_listed": 2, "papers": 1})
    );

    // Exactly one audit row, with counts and no personal value.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log"),
        audit_before + 1
    );
    let (actor, target, detail): (i64, String, String) = app
        .db()
        .query_row(
            "SELECT actor_user_id, target, detail FROM audit_log ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(target, format!("researcher:{rid}"));
    assert_eq!(actor, user_id(&app, &admin).await);
    for value in ["Priem", "ourresearch", ORCID, OPENALEX_ID, "@"] {
        assert!(!detail.contains(value), "{value} in {detail}");
    }
    assert!(detail.contains("\"invitations\":1"), "{detail}");

    // Nothing of the person is left in any table.
    assert_eq!(holding(&app, "priem"), Vec::<String>::new());
    assert_eq!(holding(&app, "OurResearch"), Vec::<String>::new());
    assert_eq!(holding(&app, ORCID), Vec::<String>::new());
    assert_eq!(holding(&app, OPENALEX_ID), Vec::<String>::new());
    // Nor in the bytes of the database file or its WAL (freed space is
    // zeroed, the full-text index was rewritten without the name, the WAL
    // was checkpointed).
    for path in [app.db_path(), app.db_path().with_extension("db-wal")] {
        let bytes = std::fs::read(&path).unwrap_or_default();
        for needle in [&b"Priem"[..], b"OurResearch", ORCID.as_bytes()] {
            assert!(
                !bytes
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle)),
                "{} holds {}",
                path.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    for table in [
        "researcher_field_sources",
        "outreach",
        "reader_interest",
        "claim_requests",
        "paper_researchers",
    ] {
        assert_eq!(
            count(&app, &format!("SELECT COUNT(*) FROM {table}")),
            0,
            "{table}"
        );
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM mail_outbox WHERE template = 'outreach_request'"
        ),
        0
    );
    let (name, email, erased): (String, Option<String>, Option<String>) = app
        .db()
        .query_row(
            "SELECT name, email_enc, erased_at FROM researchers WHERE id = ?1",
            [rid],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(name, "Removed at their request");
    assert!(email.is_none() && erased.is_some());
    // The address is suppressed and the identities listed, as keyed hashes.
    let bidx = app.state.keys.blind_index("email", RR_EMAIL);
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM suppressions WHERE email_bidx = '{bidx}' AND reason = 'erased'")),
        1
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM do_not_collect"), 2);

    // Readers see the paper, with the author removed at their request.
    assert_eq!(
        app.get(&format!("/api/v1/researchers/{rid}"), None)
            .await
            .status(),
        404
    );
    let items = researchers_of(&app, paper, Some(&admin)).await;
    assert_eq!(items["items"], json!([]));
    let view: Value = app
        .get(&format!("/api/v1/papers/{paper}"), None)
        .await
        .json()
        .await
        .unwrap();
    let author = &view["authors"][0];
    assert_eq!(author["name"], "Removed at their request");
    assert_eq!(author["removed"], true);
    assert!(author["affiliation"].is_null() && author["orcid"].is_null());
    let found: Value = app
        .get("/api/v1/papers?author=priem", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"], json!([]), "the name left the search index");
    let page = app
        .get(&format!("/papers/{paper}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Removed at their request") && !page.contains("Priem"));

    // Collecting the same paper again builds nothing.
    let again = collected_job(&app, &admin, paper).await;
    assert_eq!(again["status"], "completed", "{again:#}");
    assert_eq!(again["researcher_ids"], json!([]));
    // Another paper of theirs, by name: OpenAlex recognises them, and
    // nothing else is asked or written.
    let other = paper_with(
        &app,
        &reader,
        json!([{"name": NAME, "affiliation": AFFILIATION}]),
    )
    .await;
    let job = collected_job(&app, &admin, other).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(
        outcomes(&job),
        [("identify".to_string(), "skipped".to_string())]
    );
    assert!(step(&job, 0, "identify")["detail"]
        .as_str()
        .unwrap()
        .contains("do-not-collect"));
    // And one that names their ORCID iD: recognised without asking anyone.
    let third = paper_with(
        &app,
        &reader,
        json!([{"name": "J. Priem", "affiliation": "Elsewhere", "orcid": ORCID}]),
    )
    .await;
    let job = collected_job(&app, &admin, third).await;
    assert_eq!(
        outcomes(&job),
        [("identify".to_string(), "skipped".to_string())]
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM researchers"),
        1,
        "only the erased row"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM paper_researchers"), 0);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM researchers WHERE email_bidx IS NOT NULL"
        ),
        0
    );

    // A profile made by hand for the same person and linked to a paper:
    // the OpenAlex step finds out who it is (from the cache), writes
    // nothing, and no later step runs.
    let fourth = paper_with(
        &app,
        &reader,
        json!([{"name": NAME, "affiliation": AFFILIATION}]),
    )
    .await;
    let by_hand = profile(&app, NAME, None, None, Some(fourth)).await;
    let job = collected_job(&app, &admin, fourth).await;
    let skipped = |p: &str| (p.to_string(), "skipped".to_string());
    assert_eq!(
        outcomes(&job),
        [
            ("identify".to_string(), "ok".to_string()),
            skipped("openalex"),
            skipped("firecrawl"),
            skipped("rocketreach"),
            skipped("tavily")
        ]
    );
    let openalex: Option<String> = app
        .db()
        .query_row(
            "SELECT openalex_id FROM researchers WHERE id = ?1",
            [by_hand],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(openalex, None);
}

#[tokio::test]
async fn owned_unknown_and_erased_profiles_are_refused_and_a_stale_password_is_asked_again() {
    let app = spawn_app_with(|c| {
        c.security.admin_require_reauth_minutes = 10;
        c.auth.access_token_ttl_secs = 3600;
    })
    .await;
    let admin = app.admin_token("admin@uni.example").await;
    let (owner_token, owner) = verified(&app, "owner@uni.example").await;
    let owned = profile(&app, "Owned Researcher", None, Some(owner), None).await;
    let free = profile(
        &app,
        "Free Researcher",
        Some("free@lab.example"),
        None,
        None,
    )
    .await;

    assert_eq!(erase(&app, &owner_token, free).await.status(), 403);
    let r = erase(&app, &admin, 999_999).await;
    assert_eq!(r.status(), 404);
    let r = erase(&app, &admin, owned).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "profile_owned");

    app.clock.set(app.clock.now() + Duration::minutes(11));
    let r = erase(&app, &admin, free).await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "reauth_required");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM researchers WHERE erased_at IS NOT NULL"
        ),
        0
    );
    let r = app
        .post_json(
            "/api/v1/auth/reauth",
            Some(&admin),
            &json!({"password": PASSWORD}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = erase(&app, &admin, free).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["identities_listed"], 0);
    assert_eq!(done["address_suppressed"], true);

    let r = erase(&app, &admin, free).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "already_erased");
    // Gone for the admins' tools too: no copy to download, no search hit.
    let r = app
        .get(
            &format!("/api/v1/admin/data-subjects/researcher/{free}/export"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status(), 404);
    let found: Value = app
        .get("/api/v1/admin/data-subjects?q=researcher", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = found
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "researcher")
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [owned]);
}

#[tokio::test]
async fn an_address_an_account_holds_stays_mailable_after_the_profile_is_erased() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    // The person signed up but never claimed the profile collected for
    // them: erasing the profile must not stop their account's mail.
    let (_, _) = verified(&app, "grace@lab.example").await;
    let rid = profile(&app, "Grace Hopper", Some("grace@lab.example"), None, None).await;
    let r = erase(&app, &admin, rid).await;
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["address_suppressed"], false);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM suppressions"), 0);
}
