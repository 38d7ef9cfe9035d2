//! Collection requests: repeats, who may collect and see jobs, bad input,
//! admin retries, and encryption of collected e-mails.

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use crate::helpers::{error_code, spawn_app, spawn_app_with, TestApp, PASSWORD};

use crate::collection::*;

#[tokio::test]
async fn repeating_a_collect_request_while_its_job_is_queued_returns_the_same_job() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let reader = app.token("reader@uni.edu").await;
    let paper = priem_paper(&app, &reader).await;
    let first = app.collect_ok(&reader, &json!({"paper_id": paper})).await;
    assert_eq!(
        app.collect_ok(&reader, &json!({"paper_id": paper})).await,
        first
    );
    // Anyone asking for the same work gets the same job.
    assert_eq!(
        app.collect_ok(&admin, &json!({"paper_id": paper})).await,
        first
    );
    let person = json!({"name": NAME, "affiliation": AFFILIATION});
    let p1 = app.collect_ok(&admin, &person).await;
    assert_ne!(p1, first);
    // Case and spacing do not make a new request.
    assert_eq!(
        app.collect_ok(
            &admin,
            &json!({"name": " jason priem ", "affiliation": "ourresearch"})
        )
        .await,
        p1
    );
    let count: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM collection_jobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 2);
    // A running job is still the same job.
    app.db()
        .execute(
            "UPDATE collection_jobs SET status = 'running' WHERE id = ?1",
            [first],
        )
        .unwrap();
    assert_eq!(
        app.collect_ok(&admin, &json!({"paper_id": paper})).await,
        first
    );
}

#[tokio::test]
async fn roles_and_owners_limit_who_may_collect_and_see_jobs() {
    let app = spawn_app_with(|c| c.collection.reader_daily_jobs = 1).await;
    mount_all(&app, Some(PAGE_EMAIL)).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let alice = app.token("alice@uni.edu").await;
    let bob = app.token("bob@uni.edu").await;
    let paper = priem_paper(&app, &alice).await;

    // Anonymous: 401 everywhere but the public profile list.
    let r = app.collect(None, &json!({"paper_id": paper})).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        app.collect(Some("not-a-token"), &json!({"paper_id": paper}))
            .await
            .status(),
        401
    );
    // Readers may collect a paper, not a person.
    let r = app
        .collect(
            Some(&alice),
            &json!({"name": NAME, "affiliation": AFFILIATION}),
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "forbidden");
    let r = app
        .collect(
            Some(&alice),
            &json!({"name": NAME, "affiliation": AFFILIATION, "paper_id": paper}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let job_id = app.collect_ok(&alice, &json!({"paper_id": paper})).await;

    // The job: its requester and admins; others get 404, anonymous 401.
    let path = format!("/api/v1/consulting/jobs/{job_id}");
    assert_eq!(app.get(&path, Some(&alice)).await.status(), 200);
    assert_eq!(app.get(&path, Some(&admin)).await.status(), 200);
    let r = app.get(&path, Some(&bob)).await;
    assert_eq!(r.status(), 404);
    assert_eq!(error_code(r).await, "not_found");
    assert_eq!(app.get(&path, None).await.status(), 401);
    assert_eq!(
        app.get("/api/v1/consulting/jobs/999999", Some(&admin))
            .await
            .status(),
        404
    );

    app.run_collection().await;
    assert_eq!(app.job(&alice, job_id).await["status"], "completed");
    // Collected now: a reader may not collect it again (admins may).
    for t in [&alice, &bob] {
        let r = app.collect(Some(t), &json!({"paper_id": paper})).await;
        assert_eq!(r.status(), 409);
        assert_eq!(error_code(r).await, "already_collected");
    }
    let jobs: Value = app
        .get(
            "/api/v1/admin/collection/jobs?status=completed",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jobs["items"][0]["id"], job_id);
    // Nobody but admins sees the admin views and actions.
    for (m, p) in [
        ("GET", "/api/v1/admin/collection/jobs".to_string()),
        ("GET", "/api/v1/admin/providers".to_string()),
        ("GET", "/api/v1/admin/researchers".to_string()),
        (
            "POST",
            format!("/api/v1/admin/collection/jobs/{job_id}/retry"),
        ),
        (
            "POST",
            "/api/v1/admin/providers/firecrawl/enable".to_string(),
        ),
    ] {
        let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
        let r = app
            .send_json(method.clone(), &p, Some(&alice), &json!({}))
            .await;
        assert_eq!(r.status(), 403, "{m} {p}");
        let r = app.send_json(method.clone(), &p, None, &json!({})).await;
        assert_eq!(r.status(), 401, "{m} {p}");
        let r = app.send_json(method, &p, Some(&admin), &json!({})).await;
        assert!(r.status().is_success(), "{m} {p}: {}", r.status());
    }
    assert_eq!(
        app.get("/api/v1/admin/collection/jobs?bogus=1", Some(&admin))
            .await
            .status(),
        422
    );
    app.run_collection().await;
    let again = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    assert_ne!(again, job_id);

    // The daily budget (one job): alice has used it; a second paper is
    // refused; bob's budget is his own.
    let second = paper_with(
        &app,
        &alice,
        json!([{"name": "Ada Lovelace", "affiliation": "Analytical Engines"}]),
    )
    .await;
    let r = app
        .collect(Some(&alice), &json!({"paper_id": second}))
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(error_code(r).await, "rate_limited");
    let bobs = app.collect_ok(&bob, &json!({"paper_id": second})).await;
    // While bob's job is queued, alice asking for it gets that job.
    assert_eq!(
        app.collect_ok(&alice, &json!({"paper_id": second})).await,
        bobs
    );
    // A day later alice may collect again.
    app.clock.advance(chrono::Duration::hours(25));
    let alice = app
        .login("alice@uni.edu", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let third = paper_with(
        &app,
        &alice,
        json!([{"name": "Grace Hopper", "affiliation": "Yale"}]),
    )
    .await;
    app.collect_ok(&alice, &json!({"paper_id": third})).await;
}

#[tokio::test]
async fn bad_collect_requests_are_refused_with_clear_errors() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let collect = |body: Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let r = app.collect(Some(&admin), &body).await;
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (status, body)
        }
    };
    let (s, b) = collect(json!({})).await;
    assert_eq!(s, 422, "{b}");
    assert!(b["error"]["fields"]["paper_id"].is_string(), "{b}");
    let (s, b) = collect(json!({"name": "x"})).await;
    assert_eq!(s, 422);
    assert!(b["error"]["fields"]["affiliation"].is_string(), "{b}");
    let (s, b) = collect(json!({"affiliation": "Somewhere"})).await;
    assert_eq!(s, 422);
    assert!(b["error"]["fields"]["name"].is_string(), "{b}");
    let (s, b) = collect(json!({"name": "   ", "affiliation": " "})).await;
    assert_eq!(s, 422);
    assert!(
        b["error"]["fields"]["name"].is_string() && b["error"]["fields"]["affiliation"].is_string(),
        "{b}"
    );
    let (s, b) = collect(json!({"name": "x".repeat(201), "affiliation": "Uni"})).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = collect(json!({"paper_id": 424242})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (404, Some("not_found")));
    let (s, b) =
        collect(json!({"name": NAME, "affiliation": AFFILIATION, "paper_id": 424242})).await;
    assert_eq!(s, 404, "{b}");
    let (s, b) = collect(json!({"paper_id": 1, "priority": "high"})).await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("priority"),
        "{b}"
    );
    let (s, _) = collect(json!({"paper_id": "one"})).await;
    assert_eq!(s, 422);
    let r = app
        .client
        .post(app.url("/api/v1/consulting/researchers/collect"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let count: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM collection_jobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn the_admin_retry_reruns_only_the_failed_steps() {
    let app = spawn_app().await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    tavily_search(NAME)
        .respond_with(ResponseTemplate::new(500).set_body_json(fixture("tavily/error_500.json")))
        .up_to_n_times(4)
        .expect(4)
        .mount(&app.tavily)
        .await;
    mount_tavily(&app, 1).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "partial", "{job:#}");
    assert_eq!(step(&job, 0, "tavily")["outcome"], "failed");

    let retry = format!("/api/v1/admin/collection/jobs/{job_id}/retry");
    let calls_before: i64 = count_calls(&app);
    let r = app.post_json(&retry, Some(&admin), &json!({})).await;
    assert_eq!(r.status(), 202);
    let queued: Value = r.json().await.unwrap();
    assert_eq!(queued["status"], "queued");
    assert!(queued["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["provider"] != "tavily"));
    // A queued job cannot be retried again.
    let r = app.post_json(&retry, Some(&admin), &json!({})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "job_not_finished");
    assert_eq!(
        app.post_json(
            "/api/v1/admin/collection/jobs/999999/retry",
            Some(&admin),
            &json!({})
        )
        .await
        .status(),
        404
    );

    app.run_collection().await;
    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(step(&job, 0, "tavily")["outcome"], "ok");
    assert_eq!(step(&job, 0, "tavily")["detail"], Value::Null);
    // Only Tavily was called again: no OpenAlex or Firecrawl call, not even
    // from the cache.
    let conn = app.db();
    let since: Vec<String> = conn
        .prepare("SELECT provider FROM provider_calls WHERE id > ?1")
        .unwrap()
        .query_map([calls_before], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(since, ["tavily"]);
    let r = &researchers_of(&app, paper, None).await["items"][0];
    assert_eq!(
        r["achievements"][0]["text"]
            .as_str()
            .unwrap()
            .split(':')
            .next(),
        Some(AWARD)
    );
    assert!(app
        .audit_actions()
        .contains(&"collection.retried".to_string()));

    // While another job for the same paper is queued, the old one cannot
    // be queued beside it: a conflict, not a server error.
    let newer = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    assert_ne!(newer, job_id);
    let r = app.post_json(&retry, Some(&admin), &json!({})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(app.job(&admin, job_id).await["status"], "completed");
}

fn count_calls(app: &TestApp) -> i64 {
    app.db()
        .query_row("SELECT COALESCE(MAX(id), 0) FROM provider_calls", [], |r| {
            r.get(0)
        })
        .unwrap()
}

#[tokio::test]
async fn collected_emails_are_encrypted_at_rest() {
    let app = spawn_app().await;
    mount_all(&app, None).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    assert_eq!(app.job(&admin, job_id).await["status"], "completed");
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["email"], RR_EMAIL);

    let mut raw = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", app.db_path().display())) {
            raw.extend(b);
        }
    }
    let contains = |needle: &str| {
        raw.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
    };
    assert!(contains(NAME), "the public name is stored in clear");
    assert!(!contains(RR_EMAIL), "the e-mail is in the database file");
    assert!(
        !contains("jpriem@"),
        "the local part is in the database file"
    );
    // The stored column is ciphertext, with a blind index beside it.
    let (enc, bidx): (String, String) = app
        .db()
        .query_row("SELECT email_enc, email_bidx FROM researchers", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(!enc.contains('@') && !bidx.contains('@'));
}
