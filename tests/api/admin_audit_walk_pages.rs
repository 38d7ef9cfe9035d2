//! The audit walk on the pages: every admin form, posted once, leaves
//! exactly one audit row (the API walk and the coverage check are in
//! `admin_audit_walk.rs`).

use crate::admin_audit_walk::PAGE_CASES;
use crate::admin_audit_world::{acted, build, once, World};
use crate::pages::logged_in_browser;

#[tokio::test]
async fn every_admin_form_leaves_exactly_one_audit_row() {
    let World {
        app,
        pages: t,
        paper,
        ..
    } = build().await;
    let (web, csrf) = logged_in_browser(&app, "admin@uni.example").await;
    let mut walked = Vec::new();
    let w = &mut walked;
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let (app, web, csrf) = (&app, &web, csrf.clone());
        async move {
            let mut form = vec![("csrf_token", csrf)];
            form.extend(fields);
            web.post(app.url(&path)).form(&form).send().await.unwrap()
        }
    };

    let u = t.account;
    let c = "/admin/users/{id}/role";
    once(
        &app,
        w,
        c,
        post(
            format!("/admin/users/{u}/role"),
            vec![("role", "researcher".into())],
        ),
    )
    .await;
    let c = "/admin/users/{id}/disable";
    once(
        &app,
        w,
        c,
        post(format!("/admin/users/{u}/disable"), vec![]),
    )
    .await;
    let c = "/admin/users/{id}/enable";
    once(&app, w, c, post(format!("/admin/users/{u}/enable"), vec![])).await;
    let c = "/admin/users/{id}/delete";
    let confirm = vec![("confirm", "on".to_string())];
    once(
        &app,
        w,
        c,
        post(format!("/admin/users/{}/delete", t.doomed), confirm),
    )
    .await;
    let c = "/admin/mail/test";
    once(
        &app,
        w,
        c,
        post(
            "/admin/mail/test".into(),
            vec![("to", "ops@uni.example".into())],
        ),
    )
    .await;
    let mail: i64 = app
        .db()
        .query_row("SELECT MAX(id) FROM mail_outbox", [], |r| r.get(0))
        .unwrap();
    // Only a failed (or held) message can be sent again.
    app.db()
        .execute(
            "UPDATE mail_outbox SET status = 'failed' WHERE id = ?1",
            [mail],
        )
        .unwrap();
    let c = "/admin/mail/{id}/retry";
    once(
        &app,
        w,
        c,
        post(format!("/admin/mail/{mail}/retry"), vec![]),
    )
    .await;
    let d = t.dispute;
    let c = "/admin/disputes/{id}/review";
    once(
        &app,
        w,
        c,
        post(format!("/admin/disputes/{d}/review"), vec![]),
    )
    .await;
    let c = "/admin/disputes/{id}/resolve";
    let fields = vec![
        ("outcome", "no_refund".to_string()),
        ("note", "The session took place as booked.".to_string()),
    ];
    once(
        &app,
        w,
        c,
        post(format!("/admin/disputes/{d}/resolve"), fields),
    )
    .await;
    let c = "/admin/outreach/paper";
    once(
        &app,
        w,
        c,
        post(
            "/admin/outreach/paper".into(),
            vec![("paper_id", paper.to_string())],
        ),
    )
    .await;
    let c = "/admin/jobs/{id}/retry";
    once(
        &app,
        w,
        c,
        post(format!("/admin/jobs/{}/retry", t.job), vec![]),
    )
    .await;
    let c = "/admin/providers/{name}/enable";
    once(
        &app,
        w,
        c,
        post("/admin/providers/tavily/enable".into(), vec![]),
    )
    .await;
    let c = "/admin/researchers/{id}/email";
    let email = vec![("email", "grace.murray@our.example".to_string())];
    once(
        &app,
        w,
        c,
        post(
            format!("/admin/researchers/{}/email", t.email_profile),
            email,
        ),
    )
    .await;
    let c = "/admin/researchers/{id}/invite-by-email";
    let email = vec![("email", "mary@our.example".to_string())];
    // Two state changes, each audited once: the address is set (and stays
    // set when the invitation is then refused, e.g. by the cooldown), and
    // the invitation is sent.
    let new = acted(
        &app,
        w,
        c,
        post(
            format!("/admin/researchers/{}/invite-by-email", t.invite_profile),
            email,
        ),
    )
    .await;
    assert_eq!(new, ["researcher.email_set", "outreach.invited"], "{c}");
    let c = "/admin/researchers/{id}/link";
    let account = vec![("account", t.link_account.to_string())];
    once(
        &app,
        w,
        c,
        post(
            format!("/admin/researchers/{}/link", t.link_profile),
            account,
        ),
    )
    .await;
    let c = "/admin/researchers/{id}/merge";
    let merge = vec![("merge_id", t.merge_drop.to_string())];
    once(
        &app,
        w,
        c,
        post(format!("/admin/researchers/{}/merge", t.merge_keep), merge),
    )
    .await;
    let c = "/admin/reviews/{id}/moderate";
    let fields = vec![
        ("action", "publish".to_string()),
        ("reason", "A short rating is fair.".to_string()),
    ];
    once(
        &app,
        w,
        c,
        post(format!("/admin/reviews/{}/moderate", t.held_review), fields),
    )
    .await;
    let c = "/admin/claims/{id}";
    let approve = vec![("decision", "approve".to_string())];
    once(
        &app,
        w,
        c,
        post(format!("/admin/claims/{}", t.claim_approved), approve),
    )
    .await;
    let c = "/admin/merge-reviews/{id}";
    let dismiss = vec![("decision", "dismiss".to_string())];
    once(
        &app,
        w,
        c,
        post(format!("/admin/merge-reviews/{}", t.merge_review), dismiss),
    )
    .await;
    let c = "/admin/data-subjects/researcher/{id}/erase";
    let confirm = vec![("confirm", "yes".to_string())];
    once(
        &app,
        w,
        c,
        post(
            format!("/admin/data-subjects/researcher/{}/erase", t.erase_profile),
            confirm,
        ),
    )
    .await;

    assert_eq!(
        walked, PAGE_CASES,
        "every case was walked, in the table's order"
    );
}
