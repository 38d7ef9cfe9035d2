use serde_json::{json, Value};

use crate::helpers::spawn_app;

/// Every route the server answers, as (method, path template).
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/auth/password"),
    ("post", "/api/v1/auth/reauth"),
    ("get", "/api/v1/users/me"),
    ("get", "/api/v1/terms"),
    ("get", "/api/v1/privacy"),
    ("get", "/api/v1/users/me/consents"),
    ("post", "/api/v1/users/me/consents/{kind}/grant"),
    ("post", "/api/v1/users/me/consents/{kind}/withdraw"),
    ("post", "/api/v1/users/me/terms"),
    ("get", "/api/v1/admin/users"),
    ("put", "/api/v1/admin/users/{id}/role"),
    ("post", "/api/v1/admin/users/{id}/disable"),
    ("post", "/api/v1/admin/users/{id}/enable"),
    ("delete", "/api/v1/admin/users/{id}"),
    ("get", "/api/v1/admin/audit"),
    ("post", "/api/v1/papers"),
    ("get", "/api/v1/papers"),
    ("get", "/api/v1/papers/{id}"),
    ("post", "/api/v1/papers/import"),
    ("get", "/api/v1/papers/{id}/progress"),
    ("put", "/api/v1/papers/{id}/progress"),
    ("post", "/api/v1/papers/{id}/queries"),
    ("get", "/api/v1/papers/{id}/queries"),
    ("get", "/api/v1/queries/{id}"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/consulting/researchers/collect"),
    ("post", "/api/v1/consulting/outreach"),
    ("post", "/api/v1/auth/register-researcher"),
    ("post", "/api/v1/auth/link-researcher"),
    ("post", "/api/v1/auth/verify-email"),
    ("post", "/api/v1/auth/verify-email/resend"),
    ("patch", "/api/v1/admin/researchers/{id}"),
    ("post", "/api/v1/admin/researchers/{id}/link"),
    ("post", "/api/v1/admin/researchers/{id}/merge"),
    ("get", "/api/v1/admin/merge-reviews"),
    ("post", "/api/v1/admin/merge-reviews/{id}/dismiss"),
    ("post", "/api/v1/researchers/{id}/claim"),
    ("post", "/api/v1/researchers/{id}/claim-requests"),
    ("get", "/api/v1/admin/claim-requests"),
    ("post", "/api/v1/admin/claim-requests/{id}/approve"),
    ("post", "/api/v1/admin/claim-requests/{id}/refuse"),
    ("get", "/api/v1/consulting/jobs/{job_id}"),
    ("get", "/api/v1/consulting/researchers/{paper_id}"),
    ("get", "/api/v1/researchers/{id}"),
    ("get", "/api/v1/admin/collection/jobs"),
    ("post", "/api/v1/admin/collection/jobs/{job_id}/retry"),
    ("get", "/api/v1/admin/providers"),
    ("post", "/api/v1/admin/providers/{name}/enable"),
    ("get", "/api/v1/admin/researchers"),
    ("put", "/api/v1/users/me/timezone"),
    ("get", "/api/v1/users/me/export"),
    ("delete", "/api/v1/users/me"),
    ("get", "/api/v1/admin/data-subjects"),
    ("get", "/api/v1/admin/data-subjects/{kind}/{id}/export"),
    ("delete", "/api/v1/admin/data-subjects/researcher/{id}"),
    ("post", "/api/v1/data-requests"),
    (
        "get",
        "/api/v1/consulting/researchers/{researcher_id}/settings",
    ),
    (
        "put",
        "/api/v1/consulting/researchers/{researcher_id}/settings",
    ),
    (
        "get",
        "/api/v1/consulting/researchers/{researcher_id}/availability",
    ),
    (
        "put",
        "/api/v1/consulting/researchers/{researcher_id}/availability",
    ),
    (
        "get",
        "/api/v1/consulting/researchers/{researcher_id}/availability/rules",
    ),
    ("post", "/api/v1/consulting/sessions"),
    ("get", "/api/v1/consulting/sessions"),
    ("get", "/api/v1/consulting/sessions/{session_id}"),
    ("get", "/api/v1/consulting/sessions/{session_id}/ics"),
    ("post", "/api/v1/consulting/sessions/{session_id}/accept"),
    ("post", "/api/v1/consulting/sessions/{session_id}/decline"),
    ("post", "/api/v1/consulting/sessions/{session_id}/cancel"),
    (
        "post",
        "/api/v1/consulting/sessions/{session_id}/reschedule",
    ),
    (
        "post",
        "/api/v1/consulting/sessions/{session_id}/reschedule/accept",
    ),
    (
        "post",
        "/api/v1/consulting/sessions/{session_id}/reschedule/reject",
    ),
    ("post", "/api/v1/consulting/sessions/{session_id}/no-show"),
    ("post", "/api/v1/consulting/disputes"),
    ("get", "/api/v1/consulting/disputes"),
    ("get", "/api/v1/consulting/disputes/{dispute_id}"),
    ("post", "/api/v1/consulting/disputes/{dispute_id}/messages"),
    ("post", "/api/v1/consulting/disputes/{dispute_id}/withdraw"),
    ("post", "/api/v1/consulting/disputes/{dispute_id}/contest"),
    ("get", "/api/v1/admin/disputes"),
    ("get", "/api/v1/admin/sessions"),
    ("get", "/api/v1/admin/analytics"),
    ("get", "/api/v1/dashboard/user"),
    ("get", "/api/v1/dashboard/researcher"),
    ("post", "/api/v1/admin/disputes/{dispute_id}/review"),
    ("post", "/api/v1/admin/disputes/{dispute_id}/resolve"),
    ("post", "/api/v1/consulting/payments/intent"),
    ("get", "/api/v1/payments"),
    ("get", "/api/v1/invoices/{invoice_id}"),
    ("put", "/api/v1/users/me/billing"),
    ("get", "/api/v1/plans"),
    ("post", "/api/v1/subscriptions"),
    ("get", "/api/v1/subscriptions/me"),
    ("post", "/api/v1/subscriptions/me/cancel"),
    ("post", "/api/v1/webhooks/stripe"),
    ("post", "/api/v1/admin/sessions/{session_id}/refund"),
    ("post", "/api/v1/consulting/reviews"),
    ("get", "/api/v1/consulting/reviews/{id}"),
    ("patch", "/api/v1/consulting/reviews/{id}"),
    ("post", "/api/v1/consulting/reviews/{id}/reply"),
    ("post", "/api/v1/consulting/reviews/{id}/report"),
    (
        "get",
        "/api/v1/consulting/researchers/{researcher_id}/reviews",
    ),
    (
        "get",
        "/api/v1/consulting/researchers/{researcher_id}/reviews/analytics",
    ),
    ("get", "/api/v1/admin/reviews"),
    ("post", "/api/v1/admin/reviews/{id}/moderate"),
    ("get", "/api/v1/admin/reviews/analytics"),
    ("get", "/api/v1/users/me/review-mail"),
    ("put", "/api/v1/users/me/review-mail"),
    ("get", "/api/v1/exports/{dataset}"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
];

#[tokio::test]
async fn every_route_is_in_the_openapi_document_and_every_documented_route_exists() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is not documented"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        ROUTES.len(),
        "the document lists routes this test does not know"
    );

    let params = regex::Regex::new(r"\{[a-z_]+\}").unwrap();
    // And each documented route is really served (not a 404/405 from the router).
    for (method, path) in ROUTES {
        let url = app.url(&params.replace_all(path, "1"));
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = app
            .client
            .request(m, url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert_ne!(status, 405, "{method} {path} answered 405");
        if status == 404 {
            let body: Value = r.json().await.unwrap();
            assert_ne!(
                body["error"]["code"], "no_such_route",
                "{method} {path} is documented but not routed"
            );
        }
    }
}

#[tokio::test]
async fn error_responses_are_documented_with_the_error_shape() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// Issue 17: operation ids are unique (the document was invalid with `get`
/// used four times), and `limit` documents the range the server accepts.
#[tokio::test]
async fn operation_ids_are_unique_and_limit_is_one_to_a_hundred() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut ids = std::collections::BTreeMap::<String, Vec<String>>::new();
    let mut limits = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op["operationId"].as_str() {
                ids.entry(id.to_string())
                    .or_default()
                    .push(format!("{method} {path}"));
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["name"] == "limit" {
                    limits += 1;
                    assert_eq!(p["schema"]["minimum"], 1, "{method} {path}");
                    assert_eq!(p["schema"]["maximum"], 100, "{method} {path}");
                }
            }
        }
    }
    let shared: Vec<_> = ids.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(shared.is_empty(), "shared operation ids: {shared:?}");
    assert!(ids.contains_key("papers_get"), "{:?}", ids.keys());
    assert!(limits >= 10, "only {limits} paginated lists");

    // The answers implied by a token, a body and a cursor are documented.
    let create = &doc["paths"]["/api/v1/papers"]["post"]["responses"];
    for status in ["400", "401", "413", "415", "422"] {
        assert!(create[status].is_object(), "POST /papers lacks {status}");
    }
    let list = &doc["paths"]["/api/v1/consulting/sessions"]["get"]["responses"];
    for status in ["400", "401", "422"] {
        assert!(list[status].is_object(), "GET sessions lacks {status}");
    }
    // Every page refers to its item's named schema instead of a copy.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let pages: Vec<_> = schemas.keys().filter(|k| k.starts_with("Page_")).collect();
    assert!(pages.len() >= 10, "{pages:?}");
    for page in pages {
        let item = page.trim_start_matches("Page_");
        assert_eq!(
            schemas[page]["properties"]["items"]["items"]["$ref"],
            format!("#/components/schemas/{item}"),
            "{page}"
        );
        assert!(schemas.contains_key(item), "{item} is not a named schema");
    }
    let timezone = &doc["paths"]["/api/v1/users/me/timezone"]["put"]["responses"];
    assert!(timezone["415"].is_object(), "PUT timezone lacks 415");
}

/// Found by API fuzzing: the invoice's party was registered as `Party`
/// too, replacing the session's `Party` (a string), so every session
/// answer broke its own schema. And answers every token route can give
/// (403 `terms_not_accepted`, 429 from the limiter) were not documented.
#[tokio::test]
async fn schema_names_do_not_collide_and_implied_refusals_are_documented() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Party"]["type"], "string", "{}", schemas["Party"]);
    assert_eq!(schemas["InvoiceParty"]["type"], "object");
    let session_party = &schemas["SessionView"]["properties"]["your_role"];
    assert_eq!(
        session_party["$ref"], "#/components/schemas/Party",
        "{session_party}"
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("429"), "{method} {path}: no 429");
            let token = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if token {
                assert!(responses.contains_key("403"), "{method} {path}: no 403");
            }
        }
    }
    let role = &doc["paths"]["/api/v1/admin/users/{id}/role"]["put"]["responses"];
    assert!(role.get("409").is_some(), "last_admin is not documented");
}

/// Rules that lived only in prose are in the document, so clients and
/// the fuzzer see them (issue 17).
#[tokio::test]
async fn the_document_states_the_rules_the_server_enforces() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let s = &doc["components"]["schemas"];
    let register = &s["RegisterRequest"]["properties"];
    assert_eq!(register["password"]["minLength"], 12);
    assert_eq!(register["password"]["maxLength"], 128);
    assert_eq!(
        register["accept_terms"]["$ref"],
        "#/components/schemas/MustBeTrue"
    );
    assert_eq!(s["MustBeTrue"]["enum"], json!([true]));
    let zones = s["TimeZoneName"]["enum"].as_array().unwrap();
    assert!(zones.len() > 400 && zones.contains(&json!("Europe/Berlin")));
    assert_eq!(s["BookBody"]["properties"]["start"]["format"], "date-time");
    assert_eq!(
        s["Rule"]["properties"]["weekday"]["$ref"],
        "#/components/schemas/Weekday"
    );
    assert_eq!(
        s["SettingsBody"]["properties"]["currency"]["pattern"],
        "^[A-Z]{3}$"
    );
    assert_eq!(
        s["SettingsBody"]["properties"]["timezone"]["$ref"],
        "#/components/schemas/TimeZoneName"
    );
    let percent = &s["ProgressRequest"]["properties"]["percent"];
    assert_eq!(
        (&percent["minimum"], &percent["maximum"]),
        (&json!(0), &json!(100))
    );
    let from = doc["paths"]["/api/v1/consulting/sessions"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "from")
        .unwrap()
        .clone();
    assert_eq!(from["schema"]["format"], "date-time", "{from}");
}

/// Every value a documented enum of a query parameter lists is one the
/// server takes (the lists cannot drift from the parsers unnoticed).
#[tokio::test]
async fn every_documented_filter_value_is_accepted() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    let doc = document(&app).await;
    // The enum of query parameter `name` of `GET path`.
    let values = |path: &str, name: &str| -> Vec<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["schema"]["enum"].as_array())
            .unwrap_or_else(|| panic!("{path} {name}: no enum"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let cases = [
        (
            "/api/v1/admin/analytics",
            "bucket",
            "/api/v1/admin/analytics?bucket=",
        ),
        (
            "/api/v1/exports/{dataset}",
            "bucket",
            "/api/v1/exports/analytics?bucket=",
        ),
        (
            "/api/v1/exports/{dataset}",
            "format",
            "/api/v1/exports/sessions?format=",
        ),
        (
            "/api/v1/admin/reviews",
            "status",
            "/api/v1/admin/reviews?status=",
        ),
        (
            "/api/v1/admin/disputes",
            "status",
            "/api/v1/admin/disputes?status=",
        ),
        (
            "/api/v1/admin/claim-requests",
            "status",
            "/api/v1/admin/claim-requests?status=",
        ),
        (
            "/api/v1/payments",
            "kind",
            "/api/v1/payments?all=true&kind=",
        ),
        ("/api/v1/exports/{dataset}", "dataset", "/api/v1/exports/"),
    ];
    for (path, name, url) in cases {
        let listed = values(path, name);
        assert!(listed.len() >= 2, "{path} {name}: {listed:?}");
        for v in listed {
            let r = app.get(&format!("{url}{v}"), Some(&admin)).await;
            assert_eq!(r.status(), 200, "{url}{v}");
        }
    }
    let paper = app.sample_paper(&admin).await;
    for v in values("/api/v1/consulting/researchers/{paper_id}", "sort") {
        let r = app
            .get(
                &format!("/api/v1/consulting/researchers/{paper}?sort={v}"),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status(), 200, "sort={v}");
    }
}

/// The OpenAPI document the app serves.
async fn document(app: &crate::helpers::TestApp) -> Value {
    app.get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap()
}
