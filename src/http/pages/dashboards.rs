//! Each role's home after sign-in (`/` and `/dashboard`): a reader's next
//! sessions, reviews to write and spending; a researcher's requests,
//! earnings, rating and profile gaps; the admins' analytics
//! (`/admin/analytics`, with a range). Charts are server-rendered SVG
//! with a table each (`dashboard_charts`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::context::{render, Layout, Viewer};
use super::dashboard_charts::{self as charts, AdminCharts};
use super::form_errors::{FormErrors, Labels};
use super::PageError;
use crate::domain::{money, zone, ConsultingSessionId};
use crate::error::AppError;
use crate::http::api::dashboards::admin_figures;
use crate::services::accounts::Principal;
use crate::services::analytics::admin::bucket_label;
use crate::services::analytics::dashboards::{PendingRequest, SessionBrief};
use crate::services::analytics::{cache, AdminAnalytics, ResearcherDashboard, UserDashboard};
use crate::state::AppState;

/// A session as a dashboard row shows it.
pub struct Row {
    pub id: ConsultingSessionId,
    pub when: String,
    /// The other party.
    pub with: String,
    pub topic: String,
    pub status: String,
    /// When an unanswered request expires.
    pub expires: String,
}

fn row(s: &SessionBrief, tz: zone::Tz, researcher_view: bool) -> Row {
    Row {
        id: s.id,
        when: zone::short(s.start, tz),
        with: if researcher_view {
            s.reader_name.clone()
        } else {
            s.researcher_name.clone()
        },
        topic: s.topic.clone(),
        status: s.status.label().to_string(),
        expires: zone::short(s.expires_at, tz),
    }
}

fn pending_row(p: &PendingRequest, tz: zone::Tz) -> Row {
    Row {
        id: p.id,
        when: zone::short(p.start, tz),
        with: p.reader_name.clone(),
        topic: p.topic.clone(),
        status: String::new(),
        expires: zone::short(p.expires_at, tz),
    }
}

#[derive(Template)]
#[template(path = "pages/dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub user: Arc<UserDashboard>,
    pub upcoming: Vec<Row>,
    pub awaiting: Vec<Row>,
    pub spent: String,
    pub refunded: String,
    pub spending_chart: String,
    pub researcher: Option<ResearcherHome>,
}

/// The researcher's half of the dashboard.
pub struct ResearcherHome {
    pub d: Arc<ResearcherDashboard>,
    pub pending: Vec<Row>,
    pub upcoming: Vec<Row>,
    pub earned: String,
    pub earnings_chart: String,
    pub rating_chart: String,
    pub acceptance: String,
    pub response: String,
}

impl DashboardPage {
    pub fn money(&self, minor: &i64, currency: &str) -> String {
        money::format(*minor, currency)
    }
}

async fn researcher_home(
    state: &AppState,
    who: &Principal,
    tz: zone::Tz,
) -> Result<Option<ResearcherHome>, PageError> {
    let d = match cache::researcher_dashboard(state, who).await {
        Ok(d) => d,
        // No linked researcher profile: a reader's dashboard only.
        Err(AppError::Refused { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let e = &d.earnings;
    let net: i64 = e.by_month.iter().map(|m| m.net_minor).sum();
    Ok(Some(ResearcherHome {
        pending: d
            .pending_requests
            .iter()
            .map(|p| pending_row(p, tz))
            .collect(),
        upcoming: d
            .upcoming_sessions
            .iter()
            .map(|s| row(s, tz, true))
            .collect(),
        earned: money::format(net, &e.currency),
        earnings_chart: charts::earnings(e),
        rating_chart: d.rating.as_ref().map(charts::ratings).unwrap_or_default(),
        acceptance: d
            .acceptance_rate
            .map_or("—".into(), |r| format!("{:.0}%", r * 100.0)),
        response: d
            .median_response_hours
            .map_or("You have not answered a request yet.".into(), |h| {
                format!("Your answers: median {h:.1} hours after the request.")
            }),
        d,
    }))
}

async fn dashboard(
    state: &AppState,
    viewer: &Viewer,
    who: &Principal,
) -> Result<Response, PageError> {
    let layout = viewer.layout("Your dashboard");
    let tz = layout.zone;
    let user = cache::user_dashboard(state, who).await?;
    let researcher = researcher_home(state, who, tz).await?;
    let s = &user.spending;
    Ok(render(&DashboardPage {
        upcoming: user
            .upcoming_sessions
            .iter()
            .map(|s| row(s, tz, false))
            .collect(),
        awaiting: user
            .awaiting_answer
            .iter()
            .map(|s| row(s, tz, false))
            .collect(),
        spent: money::format(s.paid_minor, &s.currency),
        refunded: money::format(s.refunded_minor, &s.currency),
        spending_chart: charts::spending(s),
        researcher,
        user: user.clone(),
        layout,
    }))
}

/// `/`: the dashboard of the signed-in role; visitors get the search.
pub async fn home(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let Some(who) = viewer.session else {
        return Ok(super::papers::home(State(state), viewer).await);
    };
    if who.is_admin() {
        return analytics_page(&state, &viewer, AnalyticsQuery::default()).await;
    }
    dashboard(&state, &viewer, &who).await
}

/// `/dashboard`: the same for signed-in accounts, always the personal one
/// (admins see theirs too).
pub async fn dashboard_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let who = viewer.require("/dashboard")?;
    dashboard(&state, &viewer, &who).await
}

#[derive(Deserialize, Default, Clone)]
pub struct AnalyticsQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub bucket: Option<String>,
}

impl AnalyticsQuery {
    fn get(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or_default()
    }
}

const LABELS: Labels = &[("from", "From"), ("to", "To"), ("bucket", "Steps")];

#[derive(Template)]
#[template(path = "pages/admin_analytics.html")]
pub struct AnalyticsPage {
    pub layout: Layout,
    pub query: AnalyticsQuery,
    pub errors: FormErrors,
    pub a: Option<Arc<AdminAnalytics>>,
    pub charts: Option<AdminCharts>,
    /// The query string of this range, for the export links.
    pub range_query: String,
    /// The range in words: "week of 2026-09-14 to week of 2026-11-30".
    pub range_words: String,
}

impl AnalyticsPage {
    pub fn money(&self, minor: &i64, currency: &str) -> String {
        money::format(*minor, currency)
    }

    pub fn percent(&self, rate: &Option<f64>) -> String {
        rate.map_or("—".into(), |r| format!("{:.1}%", r * 100.0))
    }

    pub fn hours(&self, h: &Option<f64>) -> String {
        h.map_or("no answers in this range".into(), |h| {
            format!("{h:.1} hours")
        })
    }

    pub fn step(&self, step: &str) -> &'static str {
        charts::funnel_label(step)
    }

    pub fn q<'a>(&self, v: &'a Option<String>) -> &'a str {
        AnalyticsQuery::get(v)
    }
}

async fn analytics_page(
    state: &AppState,
    viewer: &Viewer,
    q: AnalyticsQuery,
) -> Result<Response, PageError> {
    let layout = viewer.layout("Analytics");
    let figures = admin_figures(
        state,
        q.from.as_deref(),
        q.to.as_deref(),
        q.bucket.as_deref(),
    )
    .await;
    let (a, errors) = match figures {
        Ok(a) => (Some(a), FormErrors::default()),
        Err(e) => (None, FormErrors::from_error("", e, LABELS)?),
    };
    let (range_query, range_words) = match &a {
        Some(a) => (
            format!(
                "from={}&to={}&bucket={}",
                a.range.from,
                a.range.to,
                a.range.bucket.as_str()
            ),
            format!(
                "{} to {} ({} {}s, {})",
                bucket_label(a.range.bucket, a.buckets.first().map_or("", String::as_str)),
                bucket_label(a.range.bucket, a.buckets.last().map_or("", String::as_str)),
                a.buckets.len(),
                a.range.bucket.as_str(),
                a.range.timezone
            ),
        ),
        None => (String::new(), String::new()),
    };
    // The form shows the range shown, also when it was the default.
    let query = match &a {
        Some(a) => AnalyticsQuery {
            from: Some(a.range.from.clone()),
            to: Some(a.range.to.clone()),
            bucket: Some(a.range.bucket.as_str().to_string()),
        },
        None => q,
    };
    let page = AnalyticsPage {
        layout,
        charts: a.as_deref().map(charts::admin),
        a,
        query,
        errors,
        range_query,
        range_words,
    };
    if page.errors.failed() {
        return Ok(page.errors.respond(&page));
    }
    Ok(render(&page))
}

/// `/admin/analytics?from&to&bucket`.
pub async fn analytics_get(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<AnalyticsQuery>,
) -> Result<Response, PageError> {
    viewer.require_admin("/admin/analytics")?;
    analytics_page(&state, &viewer, q).await
}
