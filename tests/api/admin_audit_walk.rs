//! "Every admin action is audited": the walk takes every admin route that
//! changes state once, on the API and on the pages, and checks that each
//! leaves exactly one audit row. The routes come from the OpenAPI document
//! (`/api/v1/admin/*` and operations tagged `admin`) and from the page
//! router (`/admin/*` forms); a route added there without a case here
//! fails `the_walk_covers_every_admin_route_that_changes_state`. The
//! page walk is in `admin_audit_walk_pages.rs`.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::admin_audit_world::{build, once, World};
use crate::helpers::{spawn_app, TestApp};

/// Every state-changing admin API operation, as (method, path template).
const API_CASES: &[(&str, &str)] = &[
    ("put", "/api/v1/admin/users/{id}/role"),
    ("post", "/api/v1/admin/users/{id}/disable"),
    ("post", "/api/v1/admin/users/{id}/enable"),
    ("delete", "/api/v1/admin/users/{id}"),
    ("post", "/api/v1/admin/disputes/{dispute_id}/review"),
    ("post", "/api/v1/admin/disputes/{dispute_id}/resolve"),
    ("patch", "/api/v1/admin/researchers/{id}"),
    ("post", "/api/v1/admin/researchers/{id}/link"),
    ("post", "/api/v1/admin/researchers/{id}/merge"),
    ("post", "/api/v1/admin/merge-reviews/{id}/dismiss"),
    ("post", "/api/v1/admin/claim-requests/{id}/approve"),
    ("post", "/api/v1/admin/claim-requests/{id}/refuse"),
    ("post", "/api/v1/admin/collection/jobs/{job_id}/retry"),
    ("post", "/api/v1/admin/providers/{name}/enable"),
    ("post", "/api/v1/admin/reviews/{id}/moderate"),
    ("delete", "/api/v1/admin/data-subjects/researcher/{id}"),
    ("post", "/api/v1/admin/sessions/{session_id}/refund"),
];

/// Every admin page form (POST routes under `/admin`).
pub(crate) const PAGE_CASES: &[&str] = &[
    "/admin/users/{id}/role",
    "/admin/users/{id}/disable",
    "/admin/users/{id}/enable",
    "/admin/users/{id}/delete",
    "/admin/mail/test",
    "/admin/mail/{id}/retry",
    "/admin/disputes/{id}/review",
    "/admin/disputes/{id}/resolve",
    "/admin/outreach/paper",
    "/admin/jobs/{id}/retry",
    "/admin/providers/{name}/enable",
    "/admin/researchers/{id}/email",
    "/admin/researchers/{id}/invite-by-email",
    "/admin/researchers/{id}/link",
    "/admin/researchers/{id}/merge",
    "/admin/reviews/{id}/moderate",
    "/admin/claims/{id}",
    "/admin/merge-reviews/{id}",
    "/admin/data-subjects/researcher/{id}/erase",
];

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    items
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The state-changing admin operations the OpenAPI document lists.
async fn documented_admin_changes(app: &TestApp) -> Vec<(String, String)> {
    let doc: Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !matches!(method.as_str(), "post" | "put" | "patch" | "delete") {
                continue;
            }
            let tagged = op["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "admin"));
            if tagged || path.starts_with("/api/v1/admin/") {
                out.insert((method.clone(), path.clone()));
            }
        }
    }
    out.into_iter().collect()
}

/// The POST routes under `/admin` in the page router's source.
fn admin_forms() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/pages/mod.rs");
    let source: String = std::fs::read_to_string(path)
        .unwrap()
        .split_whitespace()
        .collect();
    // Each `.route("path", handlers)` up to the next one.
    let mut out = BTreeSet::new();
    for route in source.split(".route(").skip(1) {
        let (path, handlers) = route[1..].split_once('"').unwrap();
        if path.starts_with("/admin") && handlers.contains("post(") {
            out.insert(path.to_string());
        }
    }
    out.into_iter().collect()
}

#[tokio::test]
async fn the_walk_covers_every_admin_route_that_changes_state() {
    let app = spawn_app().await;
    let cases: Vec<(String, String)> = API_CASES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        documented_admin_changes(&app).await,
        sorted(&cases),
        "an admin API route that changes state needs a case in API_CASES (and the walk)"
    );
    let forms = admin_forms();
    assert!(forms.len() > 10, "the router was read: {forms:?}");
    let cases: Vec<String> = PAGE_CASES.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        forms,
        sorted(&cases),
        "an admin form needs a case in PAGE_CASES (and the walk)"
    );
}

#[tokio::test]
async fn every_admin_api_change_leaves_exactly_one_audit_row() {
    let World {
        app, admin, api: t, ..
    } = build().await;
    let mut walked = Vec::new();
    let w = &mut walked;
    let a = Some(admin.as_str());
    let call = |m: Method, path: String, body: Value| {
        let app = &app;
        async move { app.send_json(m, &path, a, &body).await }
    };
    let post = |path: String, body: Value| call(Method::POST, path, body);

    let c = "put /api/v1/admin/users/{id}/role";
    let body = json!({"role": "researcher"});
    once(
        &app,
        w,
        c,
        call(
            Method::PUT,
            format!("/api/v1/admin/users/{}/role", t.account),
            body,
        ),
    )
    .await;
    let c = "post /api/v1/admin/users/{id}/disable";
    once(
        &app,
        w,
        c,
        post(
            format!("/api/v1/admin/users/{}/disable", t.account),
            json!({}),
        ),
    )
    .await;
    let c = "post /api/v1/admin/users/{id}/enable";
    once(
        &app,
        w,
        c,
        post(
            format!("/api/v1/admin/users/{}/enable", t.account),
            json!({}),
        ),
    )
    .await;
    let c = "delete /api/v1/admin/users/{id}";
    once(
        &app,
        w,
        c,
        call(
            Method::DELETE,
            format!("/api/v1/admin/users/{}", t.doomed),
            json!({}),
        ),
    )
    .await;
    let d = t.dispute;
    let c = "post /api/v1/admin/disputes/{dispute_id}/review";
    once(
        &app,
        w,
        c,
        post(format!("/api/v1/admin/disputes/{d}/review"), json!({})),
    )
    .await;
    let c = "post /api/v1/admin/disputes/{dispute_id}/resolve";
    let body = json!({"outcome": "no_refund", "note": "The session took place as booked."});
    once(
        &app,
        w,
        c,
        post(format!("/api/v1/admin/disputes/{d}/resolve"), body),
    )
    .await;
    let c = "patch /api/v1/admin/researchers/{id}";
    let body = json!({"email": "grace.murray@our.example"});
    once(
        &app,
        w,
        c,
        call(
            Method::PATCH,
            format!("/api/v1/admin/researchers/{}", t.email_profile),
            body,
        ),
    )
    .await;
    let c = "post /api/v1/admin/researchers/{id}/link";
    let body = json!({"user_id": t.link_account});
    once(
        &app,
        w,
        c,
        post(
            format!("/api/v1/admin/researchers/{}/link", t.link_profile),
            body,
        ),
    )
    .await;
    let c = "post /api/v1/admin/researchers/{id}/merge";
    let body = json!({"merge_id": t.merge_drop});
    once(
        &app,
        w,
        c,
        post(
            format!("/api/v1/admin/researchers/{}/merge", t.merge_keep),
            body,
        ),
    )
    .await;
    let c = "post /api/v1/admin/merge-reviews/{id}/dismiss";
    once(
        &app,
        w,
        c,
        post(
            format!("/api/v1/admin/merge-reviews/{}/dismiss", t.merge_review),
            json!({}),
        ),
    )
    .await;
    let c = "post /api/v1/admin/claim-requests/{id}/approve";
    once(
        &app,
        w,
        c,
        post(
            format!("/api/v1/admin/claim-requests/{}/approve", t.claim_approved),
            json!({}),
        ),
    )
    .await;
    let c = "post /api/v1/admin/claim-requests/{id}/refuse";
    once(
        &app,
        w,
        c,
        post(
            format!("/api/v1/admin/claim-requests/{}/refuse", t.claim_refused),
            json!({}),
        ),
    )
    .await;
    let c = "post /api/v1/admin/collection/jobs/{job_id}/retry";
    once(
        &app,
        w,
        c,
        post(
            format!("/api/v1/admin/collection/jobs/{}/retry", t.job),
            json!({}),
        ),
    )
    .await;
    let c = "post /api/v1/admin/providers/{name}/enable";
    once(
        &app,
        w,
        c,
        post("/api/v1/admin/providers/firecrawl/enable".into(), json!({})),
    )
    .await;
    let c = "post /api/v1/admin/reviews/{id}/moderate";
    let body = json!({"action": "publish", "reason": "A short rating is fair."});
    once(
        &app,
        w,
        c,
        post(
            format!("/api/v1/admin/reviews/{}/moderate", t.held_review),
            body,
        ),
    )
    .await;
    let c = "delete /api/v1/admin/data-subjects/researcher/{id}";
    once(
        &app,
        w,
        c,
        call(
            Method::DELETE,
            format!("/api/v1/admin/data-subjects/researcher/{}", t.erase_profile),
            json!({}),
        ),
    )
    .await;
    refund_case(w).await;

    let cases: Vec<String> = API_CASES.iter().map(|(m, p)| format!("{m} {p}")).collect();
    assert_eq!(walked, cases, "every case was walked, in the table's order");
}

/// A refund needs a captured payment, so it runs against the fake Stripe.
async fn refund_case(walked: &mut Vec<String>) {
    let s = crate::stripe_fakes::spawn_stripe_app(|_| {}).await;
    let paid = crate::payments_fixtures::paid(&s.app, 24, true).await;
    let admin = s.app.admin_token("admin@uni.example").await;
    let body = json!({"amount_minor": 500, "reason": "The room was double-booked."});
    let path = format!("/api/v1/admin/sessions/{}/refund", paid.id);
    let c = "post /api/v1/admin/sessions/{session_id}/refund";
    once(
        &s.app,
        walked,
        c,
        s.app.post_json(&path, Some(&admin), &body),
    )
    .await;
}
