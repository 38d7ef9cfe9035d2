//! The data export's test account: one row in every exported table for
//! it (and a few of another account's, which must not come back), and how
//! each seeded value appears in the export.

use serde_json::{json, Value};

use crate::helpers::TestApp;

/// A seeded value: stored as is, or encrypted for its column.
#[derive(Clone)]
pub enum V {
    I(i64),
    T(&'static str),
    Enc(&'static str, &'static str),
}

pub type Row = (&'static str, Vec<(&'static str, V)>);

const AT: &str = "2026-11-02T10:00:00.000000Z";

/// One row for every exported table, for the account `u` (owning profile
/// 50); `o` is another account (owning profile 60). Rows whose values
/// start with "other" belong to `o` alone.
pub fn seed(u: i64, o: i64) -> (Vec<Row>, Vec<Row>) {
    use V::*;
    let session =
        |id: i64, reader: i64, researcher: i64, topic: &'static str, start: &'static str| -> Row {
            (
                "consulting_sessions",
                vec![
                    ("id", I(id)),
                    ("researcher_id", I(researcher)),
                    ("reader_id", I(reader)),
                    ("topic_enc", Enc("consulting_sessions.topic", topic)),
                    ("status", T("completed")),
                    ("start_at", T(start)),
                    ("end_at", T(start)),
                    ("duration_minutes", I(30)),
                    ("price_minor", I(2500)),
                    ("currency", T("EUR")),
                    ("expires_at", T(AT)),
                    ("created_at", T(AT)),
                    ("updated_at", T(AT)),
                    (
                        "meeting_url_enc",
                        Enc(
                            "consulting_sessions.meeting_url",
                            "https://meet.example/abc",
                        ),
                    ),
                ],
            )
        };
    let mine = vec![
        (
            "papers",
            vec![
                ("id", I(900)),
                ("title", T("A paper")),
                ("created_by", I(u)),
                ("created_at", T(AT)),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "researchers",
            vec![
                ("id", I(50)),
                ("name", T("Ada Researcher")),
                ("user_id", I(u)),
                ("bio", T("Works on graphs")),
                ("email_enc", Enc("researchers.email", "ada@lab.example")),
                ("created_at", T(AT)),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "researchers",
            vec![
                ("id", I(60)),
                ("name", T("other Researcher")),
                ("user_id", I(o)),
                ("created_at", T(AT)),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "researcher_field_sources",
            vec![
                ("researcher_id", I(50)),
                ("field", T("bio")),
                ("provider", T("openalex")),
                ("source_url", T("https://openalex.org/A1")),
                ("recorded_at", T(AT)),
            ],
        ),
        (
            "researcher_merges",
            vec![
                ("kept_id", I(50)),
                ("merged_id", I(51)),
                ("reason", T("same ORCID")),
                ("merged_at", T(AT)),
            ],
        ),
        (
            "collection_jobs",
            vec![
                ("kind", T("person")),
                ("name", T("Ada Researcher")),
                ("dedupe_key", T("ada")),
                ("requested_by", I(u)),
                ("status", T("completed")),
                ("created_at", T(AT)),
            ],
        ),
        (
            "paper_researchers",
            vec![
                ("paper_id", I(900)),
                ("position", I(0)),
                ("researcher_id", I(50)),
            ],
        ),
        (
            "researcher_settings",
            vec![
                ("researcher_id", I(50)),
                ("durations", T("[30]")),
                ("price_minor", I(2500)),
                ("currency", T("EUR")),
                ("min_notice_hours", I(24)),
                ("buffer_minutes", I(10)),
                ("max_per_day", I(3)),
                ("horizon_days", I(30)),
                ("request_ttl_hours", I(48)),
                ("cancel_window_hours", I(24)),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "availability",
            vec![
                ("researcher_id", I(50)),
                ("rules", T("[]")),
                ("exceptions", T("[]")),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "researcher_ratings",
            vec![
                ("researcher_id", I(50)),
                ("count", I(1)),
                ("total", I(5)),
                ("r5", I(1)),
            ],
        ),
        (
            "outreach",
            vec![
                ("researcher_id", I(50)),
                ("kind", T("invitation")),
                ("status", T("registered")),
                ("message_enc", Enc("outreach.message", "Please join us")),
                ("created_at", T(AT)),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "claim_requests",
            vec![
                ("researcher_id", I(50)),
                ("user_id", I(u)),
                ("message_enc", Enc("claim_requests.message", "It is me")),
                ("created_at", T(AT)),
            ],
        ),
        // As a reader with the other's profile, and as the researcher of
        // the other's request.
        session(
            700,
            u,
            60,
            "My question on graphs",
            "2026-11-03T10:00:00.000000Z",
        ),
        session(
            701,
            o,
            50,
            "Their question to me",
            "2026-11-04T10:00:00.000000Z",
        ),
        (
            "session_events",
            vec![
                ("session_id", I(700)),
                ("event", T("requested")),
                ("actor", T("reader")),
                ("at", T(AT)),
            ],
        ),
        (
            "session_payments",
            vec![
                ("session_id", I(700)),
                ("user_id", I(u)),
                ("status", T("captured")),
                ("amount_minor", I(2500)),
                ("tax_minor", I(0)),
                ("currency", T("EUR")),
                ("created_at", T(AT)),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "ledger",
            vec![
                ("id", I(800)),
                ("kind", T("capture")),
                ("user_id", I(u)),
                ("session_id", I(700)),
                ("amount_minor", I(2500)),
                ("tax_minor", I(0)),
                ("currency", T("EUR")),
                ("stripe_ref", T("pi_mine")),
                ("created_at", T(AT)),
            ],
        ),
        (
            "invoices",
            vec![
                ("number", T("2026-0001")),
                ("year", I(2026)),
                ("seq", I(1)),
                ("kind", T("invoice")),
                ("user_id", I(u)),
                ("ledger_id", I(800)),
                ("seller", T("{}")),
                (
                    "buyer_enc",
                    Enc("invoices.buyer", "{\"name\":\"Reader Me\"}"),
                ),
                ("lines", T("[]")),
                ("tax_lines", T("[]")),
                ("net_minor", I(2500)),
                ("tax_minor", I(0)),
                ("total_minor", I(2500)),
                ("currency", T("EUR")),
                ("issued_at", T(AT)),
            ],
        ),
        (
            "billing_profiles",
            vec![
                ("user_id", I(u)),
                ("country", T("DE")),
                (
                    "details_enc",
                    Enc("billing_profiles.details", "{\"vat_id\":\"DE123\"}"),
                ),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "subscriptions",
            vec![
                ("user_id", I(u)),
                ("plan_id", T("scholar")),
                ("status", T("active")),
                ("created_at", T(AT)),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "plan_credits",
            vec![
                ("subscription_id", I(1)),
                ("user_id", I(u)),
                ("session_id", I(700)),
                ("period_end", T(AT)),
                ("kind", T("spend")),
                ("delta", I(-1)),
                ("created_at", T(AT)),
            ],
        ),
        (
            "reviews",
            vec![
                ("id", I(300)),
                ("session_id", I(700)),
                ("side", T("reader")),
                ("author_id", I(u)),
                ("researcher_id", I(60)),
                ("reader_id", I(u)),
                ("rating", I(4)),
                ("comment_enc", Enc("reviews.comment", "Helpful")),
                ("status", T("published")),
                ("created_at", T(AT)),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "review_reports",
            vec![
                ("review_id", I(300)),
                ("reporter_id", I(u)),
                (
                    "reason_enc",
                    Enc("review_reports.reason", "Typo in my own review"),
                ),
                ("created_at", T(AT)),
            ],
        ),
        (
            "disputes",
            vec![
                ("id", I(400)),
                ("session_id", I(700)),
                ("kind", T("quality")),
                ("opened_by", T("reader")),
                ("opener_id", I(u)),
                (
                    "description_enc",
                    Enc("disputes.description", "The link did not work"),
                ),
                ("status", T("open")),
                ("created_at", T(AT)),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "dispute_messages",
            vec![
                ("dispute_id", I(400)),
                ("author_id", I(u)),
                ("author_role", T("reader")),
                (
                    "text_enc",
                    Enc("dispute_messages.text", "See my screenshot"),
                ),
                ("created_at", T(AT)),
            ],
        ),
        (
            "paper_queries",
            vec![
                ("paper_id", I(900)),
                ("user_id", I(u)),
                (
                    "question_enc",
                    Enc("paper_queries.question", "Why lemma 3?"),
                ),
                ("created_at", T(AT)),
            ],
        ),
        (
            "reading_progress",
            vec![
                ("user_id", I(u)),
                ("paper_id", I(900)),
                ("percent", I(40)),
                ("updated_at", T(AT)),
            ],
        ),
        (
            "reader_interest",
            vec![
                ("researcher_id", I(60)),
                ("user_id", I(u)),
                ("paper_id", I(900)),
                ("created_at", T(AT)),
            ],
        ),
        (
            "suppressions",
            vec![
                ("email_bidx", T("@bidx")),
                ("reason", T("opt_out")),
                ("created_at", T(AT)),
            ],
        ),
        (
            "mail_outbox",
            vec![
                ("template", T("notice")),
                (
                    "recipient_enc",
                    Enc("mail_outbox.recipient", "reader@uni.example"),
                ),
                ("recipient_bidx", T("@bidx")),
                (
                    "content_enc",
                    Enc("mail_outbox.content", "{\"subject\":\"Hello reader\"}"),
                ),
                ("status", T("sent")),
                ("next_attempt_at", T(AT)),
                ("created_at", T(AT)),
                ("updated_at", T(AT)),
            ],
        ),
    ];
    let others = vec![
        session(702, o, 60, "other topic", "2026-11-05T10:00:00.000000Z"),
        (
            "paper_queries",
            vec![
                ("paper_id", I(900)),
                ("user_id", I(o)),
                (
                    "question_enc",
                    Enc("paper_queries.question", "other question"),
                ),
                ("created_at", T(AT)),
            ],
        ),
        (
            "reading_progress",
            vec![
                ("user_id", I(o)),
                ("paper_id", I(900)),
                ("percent", I(99)),
                ("updated_at", T(AT)),
            ],
        ),
    ];
    (mine, others)
}

pub async fn insert(app: &TestApp, rows: Vec<Row>, bidx: String) {
    let keys = app.state.keys.clone();
    app.state
        .db
        .write(move |tx| {
            for (table, cols) in &rows {
                let names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
                let sql = format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    names.join(", "),
                    vec!["?"; names.len()].join(", ")
                );
                let values: Vec<rusqlite::types::Value> = cols
                    .iter()
                    .map(|(_, v)| match v {
                        V::I(i) => (*i).into(),
                        V::T("@bidx") => bidx.clone().into(),
                        V::T(t) => t.to_string().into(),
                        V::Enc(aad, plain) => keys.encrypt(aad, plain).into(),
                    })
                    .collect();
                tx.execute(&sql, rusqlite::params_from_iter(values))?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// The JSON a seeded value is exported as.
pub fn exported(v: &V) -> Value {
    match v {
        V::I(i) => json!(i),
        V::T(t) | V::Enc(_, t) => serde_json::from_str(t).unwrap_or_else(|_| json!(t)),
    }
}
