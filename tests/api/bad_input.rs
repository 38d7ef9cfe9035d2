//! Table-driven: malformed JSON, wrong types, missing and unknown fields,
//! oversize bodies, very long strings, control characters and SQL-looking
//! strings against every endpoint that takes a body. Each answer is a 4xx
//! in the error shape, never a 5xx, and nothing partial is stored.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, PASSWORD};

struct Endpoint {
    method: reqwest::Method,
    path: String,
    token: Option<String>,
    valid: Value,
    /// A string field whose bad values must be refused.
    field: &'static str,
}

fn counts(app: &crate::helpers::TestApp) -> Vec<i64> {
    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    [
        "users",
        "papers",
        "paper_authors",
        "paper_queries",
        "reading_progress",
        "auth_sessions",
    ]
    .iter()
    .map(|t| {
        conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    })
    .collect()
}

#[tokio::test]
async fn bad_input_gets_a_4xx_in_the_error_shape_and_stores_nothing() {
    let app = spawn_app().await;
    let reader = app.signed_in("reader@uni.edu").await;
    let token = reader["access_token"].as_str().unwrap().to_string();
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = app.sample_paper(&token).await;
    use reqwest::Method as M;
    let endpoints = vec![
        Endpoint {
            method: M::POST,
            path: "/api/v1/auth/register".into(),
            token: None,
            valid: json!({"email": "new@uni.edu", "password": PASSWORD, "name": "New", "accept_terms": true}),
            field: "email",
        },
        Endpoint {
            method: M::POST,
            path: "/api/v1/auth/login".into(),
            token: None,
            valid: json!({"email": "reader@uni.edu", "password": PASSWORD}),
            field: "email",
        },
        Endpoint {
            method: M::POST,
            path: "/api/v1/auth/refresh".into(),
            token: None,
            valid: json!({"refresh_token": "x"}),
            field: "refresh_token",
        },
        Endpoint {
            method: M::POST,
            path: "/api/v1/auth/logout".into(),
            token: None,
            valid: json!({"refresh_token": "x"}),
            field: "refresh_token",
        },
        Endpoint {
            method: M::POST,
            path: "/api/v1/auth/password".into(),
            token: Some(token.clone()),
            valid: json!({"current_password": "wrong but well formed", "new_password": "another fine passphrase"}),
            field: "current_password",
        },
        Endpoint {
            method: M::POST,
            path: "/api/v1/papers".into(),
            token: Some(token.clone()),
            valid: json!({"title": "T", "doi": "10.1/x", "authors": [{"name": "A"}]}),
            field: "doi",
        },
        Endpoint {
            method: M::POST,
            path: "/api/v1/papers/import".into(),
            token: Some(token.clone()),
            valid: json!({"doi": "10.1/x"}),
            field: "doi",
        },
        Endpoint {
            method: M::PUT,
            path: format!("/api/v1/papers/{paper}/progress"),
            token: Some(token.clone()),
            valid: json!({"percent": 10}),
            field: "percent",
        },
        Endpoint {
            method: M::POST,
            path: format!("/api/v1/papers/{paper}/queries"),
            token: Some(token.clone()),
            valid: json!({"question": "Q?"}),
            field: "question",
        },
        Endpoint {
            method: M::PUT,
            path: "/api/v1/admin/users/1/role".into(),
            token: Some(admin.clone()),
            valid: json!({"role": "user"}),
            field: "role",
        },
    ];
    let before = counts(&app);
    let huge = "a".repeat(1_100_000);
    let long = "a".repeat(100_000);
    let with = |valid: &Value, field: &str, v: Value| {
        let mut b = valid.clone();
        b[field] = v;
        b.to_string()
    };
    for ep in &endpoints {
        let mut wrong_types = ep.valid.clone();
        for (_, v) in wrong_types.as_object_mut().unwrap() {
            *v = json!([1, {"x": null}]);
        }
        let mut unknown = ep.valid.clone();
        unknown["is_admin"] = json!(true);
        let cases: Vec<(&str, String, Option<u16>)> = vec![
            ("malformed json", "{,}".into(), Some(400)),
            ("truncated json", "{".into(), Some(400)),
            ("not json at all", "email=a@b.c".into(), Some(400)),
            // Valid JSON of the wrong type: 422 with the field named (the
            // role endpoint said 400 `malformed_json` before issue 17).
            ("wrong types", wrong_types.to_string(), Some(422)),
            ("missing fields", "{}".into(), Some(422)),
            ("unknown field", unknown.to_string(), Some(422)),
            (
                "body over the limit",
                with(&ep.valid, ep.field, json!(huge)),
                Some(413),
            ),
            (
                "very long string",
                with(&ep.valid, ep.field, json!(long)),
                None,
            ),
            (
                "control characters",
                with(&ep.valid, ep.field, json!("bad\u{0007}\u{0000}value")),
                None,
            ),
            (
                "sql-looking string",
                with(&ep.valid, ep.field, json!("x'); DROP TABLE users; --")),
                None,
            ),
            ("null body", "null".into(), Some(422)),
        ];
        for (case, body, expected) in cases {
            let mut req = app
                .client
                .request(ep.method.clone(), app.url(&ep.path))
                .header("content-type", "application/json")
                .body(body);
            if let Some(t) = &ep.token {
                req = req.bearer_auth(t);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let is_sql_free_text = case == "sql-looking string" && ep.field == "question";
            if is_sql_free_text {
                // Free text may look like SQL; it is stored as data, verbatim.
                assert_eq!(status, 201, "{} {case}", ep.path);
                let q: Value = r.json().await.unwrap();
                assert_eq!(q["question"], "x'); DROP TABLE users; --");
                continue;
            }
            assert!(
                (400..500).contains(&status),
                "{} {case}: got {status}",
                ep.path
            );
            if let Some(e) = expected {
                assert_eq!(status, e, "{} {case}", ep.path);
            }
            let text = r.text().await.unwrap();
            let body: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{} {case}: not JSON: {text}", ep.path));
            assert!(
                body["error"]["code"].is_string()
                    && body["error"]["message"].is_string()
                    && body["error"]["fields"].is_object(),
                "{} {case}: {body}",
                ep.path
            );
            if case == "wrong types" {
                let fields = body["error"]["fields"].as_object().unwrap();
                assert_eq!(fields.len(), 1, "{} {case}: {body}", ep.path);
                // The path to the value: `title`, or `authors[0]` inside a list.
                let named = fields.keys().next().unwrap();
                let top = named.split(['[', '.']).next().unwrap();
                assert!(ep.valid.get(top).is_some(), "{} {case}: {body}", ep.path);
            }
        }
    }
    let mut after = counts(&app);
    // The one SQL-looking question was stored on purpose.
    after[3] -= 1;
    assert_eq!(before, after, "something partial was stored");
    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    let users: i64 = conn
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 2, "the users table is intact");
}

#[tokio::test]
async fn bad_query_strings_and_ids_are_4xx() {
    let app = spawn_app().await;
    for (path, status) in [
        ("/api/v1/papers?limit=0", 422),
        ("/api/v1/papers?limit=abc", 422),
        ("/api/v1/papers?limit=1000", 422),
        ("/api/v1/papers?cursor=%27%20OR%201%3D1", 400),
        ("/api/v1/papers?unknown=1", 422),
        ("/api/v1/papers/-1", 404),
        ("/api/v1/papers/99999999999999999999999", 404),
        ("/api/v1/papers/1%27%20OR%201=1", 404),
    ] {
        let r = app.get(path, None).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{path}");
    }
    let long_q = format!("/api/v1/papers?q={}", "a".repeat(500));
    assert_eq!(app.get(&long_q, None).await.status(), 422);
}

#[tokio::test]
async fn a_json_array_is_refused_where_an_object_is_required() {
    let app = crate::helpers::spawn_app().await;
    let token = app.token("array@uni.example").await;
    for (method, path, body) in [
        (
            reqwest::Method::DELETE,
            "/api/v1/users/me",
            serde_json::json!([crate::helpers::PASSWORD]),
        ),
        (
            reqwest::Method::POST,
            "/api/v1/data-requests",
            serde_json::json!(["a@uni.example"]),
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/users/me/timezone",
            serde_json::json!(["Europe/Berlin"]),
        ),
    ] {
        let r = app.send_json(method, path, Some(&token), &body).await;
        assert_eq!(r.status(), 422, "{path}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("JSON object"),
            "{v}"
        );
    }
    // Still signed in: the array was not taken for the password.
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token)).await.status(),
        200
    );
    let r = app
        .client
        .post(app.url("/api/v1/data-requests"))
        .header("content-type", "application/json")
        .body("[oops")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "malformed JSON stays 400");
}

/// Issue 17's fuzzer: a DOI with a multi-byte character panicked in
/// `parse_doi` and was answered 500. Now it is a field error.
#[tokio::test]
async fn a_doi_with_a_multibyte_character_is_a_field_error() {
    let app = crate::helpers::spawn_app().await;
    let token = app.token("doi@uni.example").await;
    for (path, body) in [
        ("/api/v1/papers/import", serde_json::json!({"doi": "abcé"})),
        (
            "/api/v1/papers",
            serde_json::json!({"title": "A paper", "doi": "abcé", "authors": []}),
        ),
    ] {
        let r = app.post_json(path, Some(&token), &body).await;
        assert_eq!(r.status(), 422, "{path}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(v["error"]["fields"]["doi"].is_string(), "{path}: {v}");
    }
}

/// Found by API fuzzing: `3.0` is an integer to JSON Schema, and the
/// document says `integer`; serde refused it for an `i64`. A fraction is
/// still refused, with the field named.
#[tokio::test]
async fn a_whole_number_written_with_a_fraction_is_read_as_the_integer() {
    let app = spawn_app().await;
    let token = app.token("reader@uni.example").await;
    let paper = app.sample_paper(&token).await;
    let path = format!("/api/v1/papers/{paper}/progress");
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &path,
            Some(&token),
            &json!({"percent": 40.0}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &path,
            Some(&token),
            &json!({"percent": 40.5}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["fields"]["percent"].is_string(), "{body}");
}
