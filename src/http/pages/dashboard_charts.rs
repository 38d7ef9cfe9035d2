//! The dashboards' figures as charts (`charts`): what each chart shows,
//! its title and its unit. The numbers come unchanged from
//! `services::analytics`; only money turns into a chart unit here.

use super::charts::{self, BarChart, Funnel, LineChart, Series, Unit};
use crate::domain::money::Currency;
use crate::services::analytics::admin::{bucket_label, AdminAnalytics};
use crate::services::analytics::dashboards::{Earnings, Rating, Spending};
use crate::services::analytics::Bucket;

fn money(code: &str) -> Unit {
    Currency::parse(code).map_or(Unit::Count, Unit::Money)
}

fn points(v: &[i64]) -> Vec<f64> {
    v.iter().map(|x| *x as f64).collect()
}

fn series(name: &str, v: &[i64]) -> Series {
    Series {
        name: name.into(),
        points: points(v),
    }
}

/// A month `YYYY-MM` as "Dec 2026".
fn month(m: &str) -> String {
    bucket_label(Bucket::Month, &format!("{m}-01"))
}

/// Money per month, one bar each, in one currency.
fn month_bars(title: String, currency: &str, months: Vec<(&str, i64)>) -> String {
    charts::bars(&BarChart {
        title: &title,
        x_label: "Month",
        bars: months
            .into_iter()
            .map(|(m, minor)| (month(m), minor as f64))
            .collect(),
        unit: money(currency),
    })
}

pub fn spending(s: &Spending) -> String {
    month_bars(
        format!("What you paid per month ({})", s.currency),
        &s.currency,
        s.by_month
            .iter()
            .map(|m| (m.month.as_str(), m.paid_minor - m.refunded_minor))
            .collect(),
    )
}

pub fn earnings(e: &Earnings) -> String {
    month_bars(
        format!("Net earnings per month ({})", e.currency),
        &e.currency,
        e.by_month
            .iter()
            .map(|m| (m.month.as_str(), m.net_minor))
            .collect(),
    )
}

pub fn ratings(r: &Rating) -> String {
    charts::bars(&BarChart {
        title: "Reviews by stars",
        x_label: "Stars",
        bars: r
            .distribution
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("{} ★", i + 1), *n as f64))
            .collect(),
        unit: Unit::Count,
    })
}

/// The admins' charts, in the order the page shows them.
pub struct AdminCharts {
    pub sessions: String,
    pub subscriptions: String,
    /// One per currency.
    pub payments: Vec<String>,
    pub funnel: String,
    pub engagement: String,
    pub activity: String,
}

pub fn admin(a: &AdminAnalytics) -> AdminCharts {
    let bucket = a.range.bucket;
    let labels: Vec<String> = a.buckets.iter().map(|d| bucket_label(bucket, d)).collect();
    let x_label = match bucket {
        Bucket::Day => "Day",
        Bucket::Week => "Week",
        Bucket::Month => "Month",
    };
    let line = |title: &str, series: Vec<Series>, unit: Unit| {
        charts::line(&LineChart {
            title,
            x_label,
            labels: labels.clone(),
            series,
            unit,
        })
    };
    let s = &a.sessions.series;
    let sub = &a.subscriptions.series;
    let e = &a.engagement.series;
    AdminCharts {
        sessions: line(
            "Sessions",
            vec![
                series("requested", &s.requested),
                series("accepted", &s.accepted),
                series("completed", &s.completed),
                series("cancelled", &s.cancelled),
                series("expired", &s.expired),
                series("no-show", &s.no_show),
            ],
            Unit::Count,
        ),
        subscriptions: line(
            "Subscriptions",
            vec![
                series("running", &sub.active),
                series("new", &sub.new),
                series("ended", &sub.churned),
            ],
            Unit::Count,
        ),
        payments: a
            .payments
            .iter()
            .map(|c| {
                line(
                    &format!("Payments in {}", c.currency),
                    vec![
                        series("paid", &c.series.gross),
                        series("refunded", &c.series.refunded),
                        series("fees", &c.series.fees),
                    ],
                    money(&c.currency),
                )
            })
            .collect(),
        funnel: charts::funnel(&Funnel {
            title: "Researchers, from collected to booked",
            steps: a
                .researchers
                .funnel
                .iter()
                .map(|s| (funnel_label(&s.step).to_string(), s.count.max(0) as u64))
                .collect(),
        }),
        engagement: line(
            "Searches, paper views and sign-ins",
            vec![
                series("searches", &e.searches),
                series("paper views", &e.paper_views),
                series("sign-ins", &e.sign_ins),
                series("active accounts", &e.active_users),
            ],
            Unit::Count,
        ),
        activity: line(
            "Interest, invitations and reviews",
            vec![
                series("wants to consult", &e.consult_marks),
                series("invitations", &e.invitations),
                series("reviews", &e.reviews),
            ],
            Unit::Count,
        ),
    }
}

pub fn funnel_label(step: &str) -> &'static str {
    match step {
        "collected" => "collected",
        "email_found" => "e-mail found",
        "invited" => "invited",
        "registered" => "registered",
        "bookable" => "bookable",
        "booked" => "booked at least once",
        _ => "other",
    }
}
