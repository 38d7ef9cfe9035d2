//! The objects the audit walk (`admin_audit_walk.rs`) acts on: one of each
//! for the API and one for the pages, so every admin action can be taken
//! once on each surface.

use std::future::Future;

use serde_json::json;

use crate::claims::{ask, profile, verified};
use crate::collection_fakes::paper_with;
use crate::helpers::{spawn_app_with, TestApp};
use crate::reviews_fixtures::{completed, reviewed};

/// What one surface (API or pages) acts on.
pub struct Targets {
    /// An account whose role changes, then is disabled and enabled.
    pub account: i64,
    /// An account without ties, deleted.
    pub doomed: i64,
    /// A dispute taken under review, then resolved.
    pub dispute: i64,
    pub held_review: i64,
    /// A profile whose address is set by hand.
    pub email_profile: i64,
    /// A profile invited by a hand-set address.
    pub invite_profile: i64,
    /// An unowned profile and the verified account it is linked to.
    pub link_profile: i64,
    pub link_account: i64,
    /// The profile kept, and the one merged into it.
    pub merge_keep: i64,
    pub merge_drop: i64,
    pub merge_review: i64,
    pub claim_approved: i64,
    pub claim_refused: i64,
    pub job: i64,
    /// A profile nobody owns, erased at its person's request.
    pub erase_profile: i64,
}

pub struct World {
    pub app: TestApp,
    pub admin: String,
    pub api: Targets,
    pub pages: Targets,
    /// A paper whose one author has an address (the pages' paper invite).
    pub paper: i64,
}

fn held_mail(c: &mut colloquy::config::Config) {
    // Mail "retry" needs a mail server; nothing is sent (no jobs run).
    c.smtp.host = "127.0.0.1".into();
    c.smtp.port = 9;
    c.accounts.email_verification = colloquy::config::EmailVerification::Off;
    c.auth.access_token_ttl_secs = 400 * 86_400;
    c.auth.refresh_token_ttl_secs = 400 * 86_400;
}

pub async fn build() -> World {
    let app = spawn_app_with(held_mail).await;
    let done = completed(&app, 4).await;
    let admin = app.admin_token("admin@uni.example").await;
    let mut disputes = Vec::new();
    for s in &done.sessions[..2] {
        disputes.push(crate::disputes_fixtures::opened(&app, &done.reader, *s, "quality").await);
    }
    let mut extra = Vec::new();
    for s in &done.sessions[2..] {
        let r = reviewed(&app, &done.reader, *s, 1, None).await;
        assert_eq!(r["status"], "held", "{r}");
        extra.push(r["id"].as_i64().unwrap());
    }
    let paper = paper_with(&app, &admin, json!([{"name": "Heather Piwowar"}])).await;
    profile(
        &app,
        "Heather Piwowar",
        Some("heather@our.example"),
        None,
        Some(paper),
    )
    .await;
    let api = targets(&app, &admin, "api", disputes[0], extra[0]).await;
    let pages = targets(&app, &admin, "pages", disputes[1], extra[1]).await;
    World {
        app,
        admin,
        api,
        pages,
        paper,
    }
}

async fn targets(app: &TestApp, admin: &str, tag: &str, dispute: i64, review: i64) -> Targets {
    let name = |n: &str| format!("{n} {tag}");
    let (_, account) = verified(app, &format!("role-{tag}@uni.example")).await;
    let (_, doomed) = verified(app, &format!("doomed-{tag}@uni.example")).await;
    let (_, link_account) = verified(app, &format!("link-{tag}@uni.example")).await;
    let (asker, _) = verified(app, &format!("asker-{tag}@uni.example")).await;
    let (refused, _) = verified(app, &format!("refused-{tag}@uni.example")).await;
    let owned_a = profile(app, &name("Claimed A"), None, None, None).await;
    let owned_b = profile(app, &name("Claimed B"), None, None, None).await;
    let request = |token: String, rid: i64| async move {
        let r = ask(app, &token, rid, json!({})).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let claim_approved = request(asker, owned_a).await;
    let claim_refused = request(refused, owned_b).await;
    let first = profile(app, &name("Ada Lovelace"), None, None, None).await;
    let second = profile(app, &name("A. Lovelace"), None, None, None).await;
    let merge_review: i64 = app
        .db()
        .query_row(
            "INSERT INTO merge_reviews (first_id, second_id, reason, created_at)
             VALUES (?1, ?2, 'same name', '2026-12-01T00:00:00.000000Z') RETURNING id",
            [first, second],
            |r| r.get(0),
        )
        .unwrap();
    let job_paper = paper_with(app, admin, json!([{"name": name("Jason Priem")}])).await;
    let job = app.collect_ok(admin, &json!({"paper_id": job_paper})).await;
    app.run_collection().await;
    Targets {
        account,
        doomed,
        dispute,
        held_review: review,
        email_profile: profile(app, &name("Grace Murray"), None, None, None).await,
        invite_profile: profile(app, &name("Mary Somerville"), None, None, None).await,
        link_profile: profile(app, &name("Emmy Noether"), None, None, None).await,
        link_account,
        merge_keep: profile(app, &name("Lise Meitner"), None, None, None).await,
        merge_drop: profile(app, &name("L. Meitner"), None, None, None).await,
        merge_review,
        claim_approved,
        claim_refused,
        job,
        erase_profile: profile(
            app,
            &name("Marie Curie"),
            Some(&format!("marie.curie-{tag}@lab.example")),
            None,
            None,
        )
        .await,
    }
}

pub(crate) fn audit_rows(app: &TestApp) -> i64 {
    app.db()
        .query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))
        .unwrap()
}

pub(crate) fn actions_after(app: &TestApp, count: i64) -> Vec<String> {
    let db = app.db();
    let mut stmt = db
        .prepare("SELECT action FROM audit_log ORDER BY id LIMIT -1 OFFSET ?1")
        .unwrap();
    let actions = stmt
        .query_map([count], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    actions
}

/// Takes one action and checks it worked and left exactly one audit row.
pub(crate) async fn once(
    app: &TestApp,
    walked: &mut Vec<String>,
    case: &str,
    act: impl Future<Output = reqwest::Response>,
) {
    let new = acted(app, walked, case, act).await;
    assert_eq!(new.len(), 1, "{case} wrote these audit rows: {new:?}");
}

/// Takes one action and returns the audit actions it wrote.
pub(crate) async fn acted(
    app: &TestApp,
    walked: &mut Vec<String>,
    case: &str,
    act: impl Future<Output = reqwest::Response>,
) -> Vec<String> {
    let before = audit_rows(app);
    let r = act.await;
    let status = r.status();
    let final_url = r.url().path().to_string();
    let body = r.text().await.unwrap();
    assert!(
        status.is_success() || status.is_redirection(),
        "{case}: {status} {body}"
    );
    assert!(
        !body.contains(r#"class="flash flash-error""#),
        "{case}: the form failed ({final_url}): {body}"
    );
    walked.push(case.to_string());
    actions_after(app, before)
}
