use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{error_code, sample_paper_body, spawn_app};

#[tokio::test]
async fn a_signed_in_user_adds_a_paper_with_ordered_authors() {
    let app = spawn_app().await;
    let t = app.token("adder@uni.edu").await;
    let r = app.create_paper(&t, &sample_paper_body()).await;
    assert_eq!(r.status(), 201);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["doi"], "10.48550/arxiv.1706.03762");
    assert_eq!(p["url"], "https://doi.org/10.48550/arxiv.1706.03762");
    assert_eq!(p["collection_status"], "not_collected");
    let names: Vec<&str> = p["authors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"]);

    let got: Value = app
        .get(&format!("/api/v1/papers/{}", p["id"]), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, p);
}

#[tokio::test]
async fn adding_a_paper_needs_a_sign_in_and_a_unique_doi() {
    let app = spawn_app().await;
    assert_eq!(
        app.create_paper("nope", &sample_paper_body())
            .await
            .status(),
        401
    );
    let t = app.token("doi@uni.edu").await;
    assert_eq!(
        app.create_paper(&t, &sample_paper_body()).await.status(),
        201
    );
    let r = app.create_paper(&t, &sample_paper_body()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "doi_taken");
}

#[tokio::test]
async fn search_finds_papers_by_title_and_author_and_paginates() {
    let app = spawn_app().await;
    let t = app.token("search@uni.edu").await;
    for i in 0..5 {
        let body = json!({"title": format!("Deep residual learning part {i}"), "authors": [{"name": "Kaiming He", "affiliation": "Microsoft Research"}]});
        assert_eq!(app.create_paper(&t, &body).await.status(), 201);
    }
    app.create_paper(&t, &sample_paper_body()).await;

    let by_title: Value = app
        .get("/api/v1/papers?q=residual", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_title["items"].as_array().unwrap().len(), 5);
    let by_author: Value = app
        .get("/api/v1/papers?author=vaswani", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_author["items"][0]["title"], "Attention Is All You Need");
    let prefix: Value = app
        .get("/api/v1/papers?q=atten", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(prefix["items"].as_array().unwrap().len(), 1);

    let page1: Value = app
        .get("/api/v1/papers?q=kaiming&limit=2", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2: Value = app
        .get(
            &format!("/api/v1/papers?q=kaiming&limit=2&cursor={cursor}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let page3: Value = app
        .get(
            &format!(
                "/api/v1/papers?q=kaiming&limit=2&cursor={}",
                page2["next_cursor"].as_str().unwrap()
            ),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page3["items"].as_array().unwrap().len(), 1);
    assert!(page3["next_cursor"].is_null());
    assert_ne!(page1["items"][0]["id"], page2["items"][0]["id"]);
}

#[tokio::test]
async fn fts_syntax_in_a_search_is_treated_as_words() {
    let app = spawn_app().await;
    for q in [
        "\"unbalanced",
        "title:*",
        "NEAR(a b)",
        "a OR b AND",
        "' OR 1=1 --",
        "*",
        "^",
    ] {
        let r = app
            .client
            .get(app.url("/api/v1/papers"))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{q}");
    }
}

#[tokio::test]
async fn reading_progress_is_per_user() {
    let app = spawn_app().await;
    let alice = app.token("alice@uni.edu").await;
    let bob = app.token("bob@uni.edu").await;
    let id = app.sample_paper(&alice).await;
    let path = format!("/api/v1/papers/{id}/progress");
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &path,
            Some(&alice),
            &json!({"percent": 60, "wants_consultation": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let mine: Value = app.get(&path, Some(&alice)).await.json().await.unwrap();
    assert_eq!(
        (
            mine["percent"].as_i64(),
            mine["wants_consultation"].as_bool()
        ),
        (Some(60), Some(true))
    );
    let theirs: Value = app.get(&path, Some(&bob)).await.json().await.unwrap();
    assert_eq!(theirs["percent"], 0);
    assert_eq!(
        app.send_json(
            reqwest::Method::PUT,
            &path,
            Some(&alice),
            &json!({"percent": 101})
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        app.get("/api/v1/papers/999999/progress", Some(&alice))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn queries_are_visible_only_to_their_author_and_admins() {
    let app = spawn_app().await;
    let alice = app.token("alice@uni.edu").await;
    let bob = app.token("bob@uni.edu").await;
    let admin = app.admin_token("admin@uni.edu").await;
    let id = app.sample_paper(&alice).await;
    let r = app
        .post_json(
            &format!("/api/v1/papers/{id}/queries"),
            Some(&alice),
            &json!({"question": "Why sinusoidal position encodings?"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let q: Value = r.json().await.unwrap();
    assert!(q["session_id"].is_null());

    let qpath = format!("/api/v1/queries/{}", q["id"]);
    assert_eq!(app.get(&qpath, Some(&alice)).await.status(), 200);
    assert_eq!(app.get(&qpath, Some(&bob)).await.status(), 404);
    assert_eq!(app.get(&qpath, Some(&admin)).await.status(), 200);
    assert_eq!(app.get(&qpath, None).await.status(), 401);

    let list = |t: String| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/papers/{id}/queries"), Some(&t))
                .await
                .json::<Value>()
                .await
                .unwrap()["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(list(alice.clone()).await, 1);
    assert_eq!(list(bob.clone()).await, 0);
    assert_eq!(list(admin.clone()).await, 1);
}

#[tokio::test]
async fn import_by_doi_reads_openalex() {
    let app = spawn_app_with_mailto().await;
    Mock::given(method("GET"))
        .and(path("/works/doi:10.1038/nature14539"))
        .and(query_param("mailto", "ops@uni.edu"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "https://openalex.org/W1919",
            "doi": "https://doi.org/10.1038/nature14539",
            "display_name": "Deep learning",
            "publication_year": 2015,
            "primary_location": {"source": {"display_name": "Nature"}},
            "abstract_inverted_index": {"Deep": [0], "learning": [1], "works": [2]},
            "authorships": [
                {"author_position": "first", "author": {"id": "https://openalex.org/A1", "display_name": "Yann LeCun", "orcid": null},
                 "institutions": [{"display_name": "New York University"}], "raw_affiliation_strings": []},
                {"author_position": "middle", "author": {"id": "https://openalex.org/A2", "display_name": "Yoshua Bengio", "orcid": "https://orcid.org/0000-0002-9322-3515"},
                 "institutions": [{"display_name": "Université de Montréal"}]},
                {"author_position": "last", "author": {"id": "https://openalex.org/A3", "display_name": "Geoffrey Hinton", "orcid": null},
                 "institutions": [], "raw_affiliation_strings": ["University of Toronto"]}
            ]
        })))
        .expect(1)
        .mount(&app.openalex)
        .await;
    let t = app.token("importer@uni.edu").await;
    let r = app
        .post_json(
            "/api/v1/papers/import",
            Some(&t),
            &json!({"doi": "https://doi.org/10.1038/NATURE14539"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["title"], "Deep learning");
    assert_eq!(p["venue"], "Nature");
    assert_eq!(p["abstract"], "Deep learning works");
    assert_eq!(p["source"], "openalex");
    assert_eq!(p["authors"][1]["orcid"], "0000-0002-9322-3515");
    assert_eq!(p["authors"][2]["affiliation"], "University of Toronto");
    // A second import returns the stored paper without asking OpenAlex.
    let again = app
        .post_json(
            "/api/v1/papers/import",
            Some(&t),
            &json!({"doi": "10.1038/nature14539"}),
        )
        .await;
    assert_eq!(again.status(), 200);
}

async fn spawn_app_with_mailto() -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(|c| c.providers.openalex.mailto = "ops@uni.edu".into()).await
}

#[tokio::test]
async fn import_errors_are_clear() {
    let app = spawn_app().await;
    let t = app.token("importer@uni.edu").await;
    Mock::given(path("/works/doi:10.1/missing"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&app.openalex)
        .await;
    Mock::given(path("/works/doi:10.1/broken"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.openalex)
        .await;
    Mock::given(path("/works/doi:10.1/garbage"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{not json"))
        .mount(&app.openalex)
        .await;
    Mock::given(path("/works/doi:10.1/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(5)))
        .mount(&app.openalex)
        .await;
    let import = |doi: &'static str| {
        let (app, t) = (&app, t.clone());
        async move {
            app.post_json("/api/v1/papers/import", Some(&t), &json!({"doi": doi}))
                .await
        }
    };
    assert_eq!(import("10.1/missing").await.status(), 422);
    for doi in ["10.1/broken", "10.1/garbage", "10.1/slow"] {
        let r = import(doi).await;
        assert_eq!(r.status(), 502, "{doi}");
        assert_eq!(error_code(r).await, "upstream_unavailable");
    }
    assert_eq!(import("not a doi").await.status(), 422);
}

#[tokio::test]
async fn import_reports_an_unreachable_openalex() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.providers.openalex.base_url = "http://127.0.0.1:9".into()
    })
    .await;
    let t = app.token("importer@uni.edu").await;
    let r = app
        .post_json(
            "/api/v1/papers/import",
            Some(&t),
            &json!({"doi": "10.1038/nature14539"}),
        )
        .await;
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("OpenAlex could not be reached"),
        "{body}"
    );
}

#[tokio::test]
async fn paper_reads_are_cached_and_missing_papers_are_404() {
    let app = spawn_app().await;
    let t = app.token("cache@uni.edu").await;
    let id = app.sample_paper(&t).await;
    app.get(&format!("/api/v1/papers/{id}"), None).await;
    assert!(app
        .state
        .cache
        .papers
        .contains_key(&colloquy::domain::PaperId(id)));
    assert_eq!(app.get("/api/v1/papers/424242", None).await.status(), 404);
    assert_eq!(app.get("/api/v1/papers/abc", None).await.status(), 404);
}
