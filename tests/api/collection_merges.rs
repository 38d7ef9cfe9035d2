//! De-duplication: researchers with the same e-mail are merged, provenance
//! and merge records kept, and merged ids resolve to the keeper.

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::spawn_app;

use crate::collection::*;

#[tokio::test]
async fn two_authors_with_the_same_email_are_merged_with_their_provenance() {
    let app = spawn_app().await;
    let alias = "J. R. Priem";
    mount_openalex(&app, 1).await;
    // OpenAlex does not know the alias; its profile page shows the same e-mail.
    mount_openalex_search(
        &app,
        alias,
        fixture("openalex/authors_search_empty.json"),
        1,
    )
    .await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    let mut alias_page = firecrawl_search_answer(Some(&PAGE_EMAIL.to_uppercase()));
    alias_page["data"][0]["url"] = json!("https://example.edu/~jrpriem");
    alias_page["data"][0]["json"]["bio"] = Value::Null;
    firecrawl_search(alias, AFFILIATION)
        .respond_with(ResponseTemplate::new(200).set_body_json(alias_page))
        .expect(1)
        .mount(&app.firecrawl)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&app.rocketreach)
        .await;
    // The alias's Tavily search may run before or after the merge.
    Mock::given(method("POST"))
        .and(path("/search"))
        .and(header("authorization", "Bearer tvly-test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tavily_answer()))
        .mount(&app.tavily)
        .await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = paper_with(
        &app,
        &admin,
        json!([{"name": NAME, "affiliation": AFFILIATION},
               {"name": alias, "affiliation": AFFILIATION}]),
    )
    .await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;

    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    let ids = job["researcher_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{job:#}");
    let kept = ids[0].as_i64().unwrap();
    assert_eq!(step(&job, 0, "tavily")["researcher_id"], kept);
    assert_eq!(step(&job, 1, "tavily")["researcher_id"], kept);

    // The paper lists one researcher for both positions.
    let list = researchers_of(&app, paper, Some(&admin)).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list:#}");
    let r = &items[0];
    assert_eq!(r["id"], kept);
    assert_eq!(r["email"], PAGE_EMAIL);
    assert_eq!(r["orcid"], ORCID);
    assert_eq!(r["bio"], BIO);
    let conn = app.db();
    let links: Vec<i64> = conn
        .prepare(
            "SELECT researcher_id FROM paper_researchers WHERE paper_id = ?1 ORDER BY position",
        )
        .unwrap()
        .query_map([paper], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(links, [kept, kept]);
    let (kept_id, merged_id, reason, merged_sources): (i64, i64, String, String) = conn
        .query_row(
            "SELECT kept_id, merged_id, reason, merged_sources FROM researcher_merges",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(kept_id, kept);
    assert_ne!(merged_id, kept);
    assert_eq!(reason, "same email");
    // The merged record's provenance is kept with the merge.
    let merged: Value = serde_json::from_str(&merged_sources).unwrap();
    assert!(
        merged
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["field"] == "name" && s["provider"] == "paper"),
        "{merged:#}"
    );
    let researchers: i64 = conn
        .query_row("SELECT COUNT(*) FROM researchers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(researchers, 1);
}

#[tokio::test]
async fn chained_merges_keep_every_merge_record_and_old_ids_resolve_to_the_keeper() {
    use colloquy::db::repos::researchers;
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    let (a, b, c, resolved) = app
        .state
        .db
        .write(move |tx| {
            let c = researchers::insert(tx, "C. Priem", Some(AFFILIATION), None, now)?;
            let b = researchers::insert(tx, "B. Priem", Some(AFFILIATION), None, now)?;
            let a = researchers::insert(tx, "A. Priem", Some(AFFILIATION), None, now)?;
            researchers::merge(tx, b, a, "same orcid", now)?;
            researchers::merge(tx, c, b, "same email", now)?;
            let resolved = [a, b, c].map(|id| researchers::resolve(tx, id).unwrap());
            Ok((a, b, c, resolved))
        })
        .await
        .unwrap();
    assert_eq!(resolved, [Some(c), Some(c), Some(c)]);
    let rows: Vec<(i64, i64, String)> = app
        .db()
        .prepare("SELECT kept_id, merged_id, reason FROM researcher_merges ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        [
            (c.0, a.0, "same orcid".to_string()),
            (c.0, b.0, "same email".to_string())
        ]
    );
}
