//! Data for the page tour (`browser_pages.rs`): an app with payments on,
//! the demo papers, every kind of row the list pages show, and the links a
//! mail would carry; then the list of visits, one per page and role.

use colloquy::clock::Clock;
use colloquy::services::collection::calls::Provider;
use serde_json::json;

use crate::helpers::TestApp;
use crate::payments_fixtures::{invoice_id_of, paid, paid_request, plan};
use crate::sessions_fixtures::{acted, at, mails};
use crate::stripe_fakes::{spawn_stripe_app, StripeApp};

pub const READER: &str = "reader@uni.example";
pub const RESEARCHER: &str = "grace@yale.example";
pub const ADMIN: &str = "admin@uni.example";

/// Who is signed in for a visit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Who {
    Nobody,
    Reader,
    Researcher,
    Admin,
}

impl Who {
    pub fn email(self) -> Option<&'static str> {
        match self {
            Who::Nobody => None,
            Who::Reader => Some(READER),
            Who::Researcher => Some(RESEARCHER),
            Who::Admin => Some(ADMIN),
        }
    }
}

/// One page to load: the router's pattern it exercises, the path with
/// real ids, and the CSS selectors of its primary actions (each must be
/// on screen at 390 px without scrolling sideways).
pub struct Visit {
    pub who: Who,
    pub route: &'static str,
    pub path: String,
    pub primary: &'static [&'static str],
}

/// Ids and tokens the visits need (`Default` gives placeholders, enough
/// to list the routes).
#[derive(Default)]
pub struct Seeded {
    paper: i64,
    researcher: i64,
    /// The researcher's account, for the admin's account page.
    researcher_user: i64,
    invited: i64,
    accepted: i64,
    requested: i64,
    invoice: i64,
    mail: i64,
    /// A completed session the reader has not reviewed yet.
    unreviewed: i64,
    invite_token: String,
    opt_out_token: String,
    respond_token: String,
    /// A session the reader reported missed, and the no-show claim that
    /// report opened, waiting for the researcher.
    missed: i64,
    dispute: i64,
}

/// The app: payments through the fake Stripe, with one plan to offer.
pub async fn app() -> StripeApp {
    spawn_stripe_app(|c| c.plans = vec![plan(10, 0)]).await
}

/// The one-time admin set-up link (only while no admin exists).
pub async fn setup_path(app: &TestApp) -> String {
    let link = colloquy::services::accounts::ensure_setup_link(&app.state)
        .await
        .unwrap()
        .expect("no admin yet: a setup link");
    link.replace(&app.state.config.public_url(), "")
}

fn token_in(text: &str, pattern: &str) -> String {
    regex::Regex::new(pattern)
        .unwrap()
        .captures(text)
        .unwrap_or_else(|| panic!("{pattern} in {text}"))[1]
        .to_string()
}

/// Everything the list pages show a row of. Makes the admin, so call it
/// after the set-up page was seen.
pub async fn seed(app: &TestApp) -> Seeded {
    colloquy::services::demo::load(&app.state).await.unwrap();
    let admin = app.admin_token(ADMIN).await;

    // A priced researcher; the reader's accepted session (with an invoice)
    // and a paid request waiting for the researcher's answer.
    let p = paid(app, 48, true).await;
    let invoice = invoice_id_of(app, &p.reader, p.id, "capture").await;
    let requested = paid_request(app, &p.reader, &p.researcher, at("2026-12-11T10:00:00Z")).await;
    let request_mail = mails(app, "session_request").pop().expect("a request");
    let respond_token = token_in(
        &request_mail.content.text,
        &format!(r"/sessions/{requested}/respond\?token=([A-Za-z0-9_\-\.]+)&action=accept"),
    );

    // An author with a collected address, invited by the reader: held
    // mail with the invitation and opt-out links, demand, a claim request.
    let (invited, _) = crate::outreach::researcher(app, &p.reader).await;
    let r = crate::outreach::outreach(app, &p.reader, json!({"researcher_id": invited})).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let invitation = mails(app, "outreach_request").pop().expect("an invitation");
    let invite_token = token_in(&invitation.content.text, r"/invite/([A-Za-z0-9_\-\.]+)");
    let opt_out_token = token_in(&invitation.content.text, r"/opt-out/([A-Za-z0-9_\-\.]+)");
    let r = crate::claims::ask(
        app,
        &p.reader,
        invited,
        json!({"message": "It is me: my ORCID is 0000-0001-2345-6789."}),
    )
    .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    // A collection job with steps, and a provider that refused its key.
    let paper = first_paper(app).await;
    app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let now = app.clock.now();
    let fingerprint = Provider::Tavily.key_fingerprint(&app.state);
    app.state
        .db
        .write(move |tx| {
            colloquy::repos::provider_calls::mark_unavailable(
                tx,
                "tavily",
                "the API key was refused",
                &fingerprint,
                now,
            )
        })
        .await
        .unwrap();

    // Completed sessions: one reviewed and published, one with a held
    // review for the moderators, one waiting for the reader's rating.
    let mut completed = Vec::new();
    for day in ["14", "15", "16"] {
        let start = at(&format!("2026-12-{day}T10:00:00Z"));
        let id = paid_request(app, &p.reader, &p.researcher, start).await;
        crate::sessions_fixtures::acted(app, &p.researcher.token, id, "accept", json!({})).await;
        app.db()
            .execute(
                "UPDATE consulting_sessions SET status = 'completed' WHERE id = ?1",
                [id],
            )
            .unwrap();
        completed.push(id);
    }
    let published = crate::reviews_fixtures::reviewed(
        app,
        &p.reader,
        completed[0],
        4,
        Some("Clear answers about the proofs."),
    )
    .await;
    let published = published["id"].as_i64().unwrap();
    let r = crate::reviews_fixtures::moderate(app, &admin, published, "publish", "Fine.").await;
    assert_eq!(r.status(), 200);
    let r = crate::reviews_fixtures::reply(app, &p.researcher.token, published, "Thank you!").await;
    assert_eq!(r.status(), 201);
    crate::reviews_fixtures::reviewed(app, &p.reader, completed[1], 1, None).await;

    // A session this morning the researcher missed, says the reader: a
    // no-show claim waiting for the researcher's answer.
    let missed = paid_request(app, &p.reader, &p.researcher, at("2026-12-07T09:00:00Z")).await;
    acted(app, &p.researcher.token, missed, "accept", json!({})).await;
    app.clock.set(at("2026-12-07T09:15:00Z"));
    let claim = acted(app, &p.reader, missed, "no-show", json!({})).await;
    let dispute = claim["dispute_id"].as_i64().expect("a no-show claim");

    Seeded {
        unreviewed: completed[2],
        missed,
        dispute,
        paper,
        researcher: p.researcher.researcher_id,
        researcher_user: p.researcher.user_id,
        invited,
        accepted: p.id,
        requested,
        invoice,
        mail: invitation.id.0,
        invite_token,
        opt_out_token,
        respond_token,
    }
}

async fn first_paper(app: &TestApp) -> i64 {
    let page: serde_json::Value = app
        .get("/api/v1/papers?q=attention", None)
        .await
        .json()
        .await
        .unwrap();
    page["items"][0]["id"].as_i64().expect("a demo paper")
}

/// Every GET page of `pages::router`, as each role meets it.
pub fn visits(s: &Seeded) -> Vec<Visit> {
    use Who::*;
    let v = |who, route, path: String, primary| Visit {
        who,
        route,
        path,
        primary,
    };
    let (paper, researcher) = (s.paper, s.researcher);
    vec![
        v(Nobody, "/", "/".into(), &["form[role='search'] button"]),
        v(
            Nobody,
            "/papers",
            "/papers?q=attention".into(),
            &["ul.papers a.paper-title"],
        ),
        v(
            Nobody,
            "/papers/{id}",
            format!("/papers/{paper}"),
            &["main a[href^='/login?next=/papers/']"],
        ),
        v(
            Nobody,
            "/login",
            "/login".into(),
            &["form[action='/login'] button[type='submit']"],
        ),
        v(
            Nobody,
            "/register",
            "/register".into(),
            &["form[action='/register'] button[type='submit']"],
        ),
        v(Nobody, "/terms", "/terms".into(), &["main h1"]),
        v(
            Nobody,
            "/terms/{version}",
            "/terms/2026-11-01".into(),
            &["main h1"],
        ),
        v(Nobody, "/privacy", "/privacy".into(), &["main h1"]),
        v(
            Nobody,
            "/privacy/{version}",
            "/privacy/2026-11-01".into(),
            &["main h1"],
        ),
        v(
            Nobody,
            "/researchers/{id}",
            format!("/researchers/{researcher}"),
            &["#book-form a[href^='/login?next=']"],
        ),
        v(
            Nobody,
            "/invite/{token}",
            format!("/invite/{}", s.invite_token),
            &["form[action^='/invite/'] button[type='submit']"],
        ),
        v(
            Nobody,
            "/invite/{token}",
            "/invite/not-a-link".into(),
            &["main h1"],
        ),
        v(
            Nobody,
            "/opt-out/{token}",
            format!("/opt-out/{}", s.opt_out_token),
            &["form[action^='/opt-out/'] button"],
        ),
        v(
            Nobody,
            "/sessions/{id}/respond",
            format!(
                "/sessions/{}/respond?token={}&action=accept",
                s.requested, s.respond_token
            ),
            &["#confirm"],
        ),
        v(
            Nobody,
            "/verify-email/{token}",
            "/verify-email/not-a-link".into(),
            &["main a[href='/login']"],
        ),
        v(
            Nobody,
            "(fallback)",
            "/no-such-page".into(),
            &["main a[href='/']"],
        ),
        v(
            Reader,
            "/",
            "/".into(),
            &["#dashboard-search button", "#upcoming tbody a"],
        ),
        v(
            Reader,
            "/dashboard",
            "/dashboard".into(),
            &["#spending summary", "#awaiting p.meta a"],
        ),
        v(
            Reader,
            "/papers/{id}",
            format!("/papers/{paper}"),
            &["form[action$='/progress'] button"],
        ),
        v(
            Reader,
            "/papers/new",
            "/papers/new".into(),
            &["form[action='/papers/new'] button[type='submit']"],
        ),
        v(
            Reader,
            "/researchers/{id}",
            format!("/researchers/{researcher}"),
            &[
                "#book-form input[name='start']",
                "#book-form button[type='submit']",
            ],
        ),
        v(
            Reader,
            "/researchers/{id}",
            format!("/researchers/{}", s.invited),
            &["#booking form button"],
        ),
        v(
            Reader,
            "/sessions",
            "/sessions".into(),
            &["#upcoming tbody a"],
        ),
        v(
            Reader,
            "/sessions/{id}",
            format!("/sessions/{}", s.accepted),
            &["#ics-download"],
        ),
        v(
            Reader,
            "/invoices/{id}",
            format!("/invoices/{}", s.invoice),
            &["a[href$='?download=1']"],
        ),
        v(
            Reader,
            "/account",
            "/account".into(),
            &[
                "form[action='/account/subscribe'] button",
                "#payments tbody a",
            ],
        ),
        v(
            Researcher,
            "/researchers/{id}/availability",
            format!("/researchers/{researcher}/availability"),
            &["#availability-form button[type='submit']"],
        ),
        v(
            Researcher,
            "/sessions/{id}",
            format!("/sessions/{}", s.requested),
            &["button#accept"],
        ),
        v(
            Researcher,
            "/sessions",
            "/sessions".into(),
            &["#upcoming tbody a"],
        ),
        v(Admin, "/admin", "/admin".into(), &["td.row-action button"]),
        v(
            Admin,
            "/",
            "/".into(),
            &["#analytics-range button", "#export-analytics"],
        ),
        v(
            Admin,
            "/admin/analytics",
            "/admin/analytics?bucket=day".into(),
            &["#analytics-range button", "#analytics-sessions summary"],
        ),
        v(
            Researcher,
            "/",
            "/".into(),
            &["#researcher-home h2", "#rating summary"],
        ),
        v(
            Admin,
            "/admin/mail",
            "/admin/mail".into(),
            &["tbody td:first-child a"],
        ),
        v(
            Admin,
            "/admin/mail/{id}",
            format!("/admin/mail/{}", s.mail),
            &["main a[href='/admin/mail']"],
        ),
        v(
            Admin,
            "/admin/outreach",
            "/admin/outreach".into(),
            &[
                "td.row-action button",
                "#paper-picker form[role='search'] button",
            ],
        ),
        v(
            Admin,
            "/admin/outreach",
            "/admin/outreach?paper_q=Analytical".into(),
            &["#paper-picker form[action='/admin/outreach/paper'] button"],
        ),
        v(
            Admin,
            "/admin/jobs",
            "/admin/jobs".into(),
            &["form[action$='/retry'] button"],
        ),
        v(
            Admin,
            "/admin/providers",
            "/admin/providers".into(),
            &["td.row-action button"],
        ),
        v(
            Admin,
            "/admin/researchers",
            "/admin/researchers".into(),
            &["tbody a[href^='/admin/researchers/']"],
        ),
        v(
            Admin,
            "/admin/researchers/{id}",
            format!("/admin/researchers/{}", s.invited),
            &["#email-form button[type='submit']"],
        ),
        v(
            Admin,
            "/admin/researchers/{id}",
            format!(
                "/admin/researchers/{}?account_q={READER}&merge_q=Grace",
                s.invited
            ),
            &[
                "#account-picker form[action$='/link'] button",
                "#merge-picker form[action$='/merge'] button",
            ],
        ),
        v(
            Admin,
            "/admin/users/{id}",
            format!("/admin/users/{}", s.researcher_user),
            &["button#disable", "button#delete"],
        ),
        v(
            Admin,
            "/admin/reviews",
            "/admin/reviews".into(),
            &["form.moderate button[value='publish']"],
        ),
        v(
            Reader,
            "/sessions/{id}",
            format!("/sessions/{}", s.unreviewed),
            &["#submit-review"],
        ),
        v(
            Admin,
            "/admin/settings",
            "/admin/settings".into(),
            &["main a[href='/admin/mail?status=held']"],
        ),
        v(
            Admin,
            "/admin/claims",
            "/admin/claims".into(),
            &["td.row-action button"],
        ),
        v(
            Admin,
            "/papers/{id}",
            format!("/papers/{paper}"),
            &["#researchers form.invite-by-email button"],
        ),
        v(
            Reader,
            "/sessions/{id}",
            format!("/sessions/{}", s.missed),
            &["#disputes a[href^='/disputes/']"],
        ),
        v(
            Reader,
            "/disputes",
            "/disputes".into(),
            &["#disputes tbody a"],
        ),
        v(
            Reader,
            "/disputes/{id}",
            format!("/disputes/{}", s.dispute),
            &["#message-form button[type='submit']"],
        ),
        v(
            Researcher,
            "/disputes/{id}",
            format!("/disputes/{}", s.dispute),
            &[
                "button#contest-claim",
                "#message-form button[type='submit']",
            ],
        ),
        v(
            Admin,
            "/admin/sessions",
            "/admin/sessions".into(),
            &[
                "#session-filter button[type='submit']",
                "#sessions tbody tr:first-child td.row-action a.open-session",
            ],
        ),
        v(
            Admin,
            "/admin/data-subjects",
            "/admin/data-subjects?q=reader".into(),
            &[
                "#subject-search button[type='submit']",
                "#subjects tbody tr:first-child a[download]",
            ],
        ),
        v(
            Admin,
            "/admin/disputes",
            "/admin/disputes".into(),
            &["form.resolve-form button[type='submit']"],
        ),
        v(
            Admin,
            "/disputes/{id}",
            format!("/disputes/{}", s.dispute),
            &["button#take-up", "form.resolve-form button[type='submit']"],
        ),
        v(
            Admin,
            "/admin/data-subjects/researcher/{id}/erase",
            format!("/admin/data-subjects/researcher/{}/erase", s.invited),
            &["#erase"],
        ),
        v(
            Nobody,
            "/privacy/request",
            "/privacy/request".into(),
            &["#data-request button[type='submit']"],
        ),
    ]
}
