//! The analytics series flattened into rows, for the `analytics` export:
//! one row per series and bucket (`metric`, `bucket_start`, `currency`,
//! `value`). Money series carry their currency; the others none.

use super::admin::AdminAnalytics;

/// One exported point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatRow {
    /// `sessions.requested`, `payments.gross`, `engagement.searches`, …
    pub metric: String,
    /// The bucket's first local day.
    pub bucket_start: String,
    pub currency: Option<String>,
    pub value: i64,
}

pub fn rows(a: &AdminAnalytics) -> Vec<FlatRow> {
    let mut out = Vec::new();
    let mut push = |metric: String, currency: Option<&str>, points: &[i64]| {
        for (day, value) in a.buckets.iter().zip(points) {
            out.push(FlatRow {
                metric: metric.clone(),
                bucket_start: day.clone(),
                currency: currency.map(str::to_string),
                value: *value,
            });
        }
    };
    let s = &a.sessions.series;
    for (name, points) in [
        ("requested", &s.requested),
        ("accepted", &s.accepted),
        ("declined", &s.declined),
        ("completed", &s.completed),
        ("cancelled", &s.cancelled),
        ("expired", &s.expired),
        ("no_show", &s.no_show),
    ] {
        push(format!("sessions.{name}"), None, points);
    }
    let sub = &a.subscriptions.series;
    for (name, points) in [
        ("active", &sub.active),
        ("new", &sub.new),
        ("churned", &sub.churned),
    ] {
        push(format!("subscriptions.{name}"), None, points);
    }
    for m in &a.subscriptions.mrr_series {
        push("subscriptions.mrr".into(), Some(&m.currency), &m.points);
    }
    for c in &a.payments {
        let p = &c.series;
        for (name, points) in [
            ("gross", &p.gross),
            ("captured", &p.captured),
            ("refunded", &p.refunded),
            ("fees", &p.fees),
            ("tax", &p.tax),
        ] {
            push(format!("payments.{name}"), Some(&c.currency), points);
        }
    }
    for p in &a.provider_spend {
        push(format!("provider_spend.{}", p.provider), None, &p.series);
    }
    let e = &a.engagement.series;
    for (name, points) in [
        ("active_users", &e.active_users),
        ("searches", &e.searches),
        ("paper_views", &e.paper_views),
        ("sign_ins", &e.sign_ins),
        ("consult_marks", &e.consult_marks),
        ("invitations", &e.invitations),
        ("reviews", &e.reviews),
    ] {
        push(format!("engagement.{name}"), None, points);
    }
    out
}
