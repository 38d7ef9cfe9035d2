//! The admins' list of every session (`/admin/sessions`): filtered by
//! status, a range of days in the admin's zone and a researcher, newest
//! first, each row opening the session's page.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::context::{render, Layout, Viewer};
use super::form_errors::{sentence, FormErrors, Labels};
use super::PageError;
use crate::domain::availability::local_instant;
use crate::domain::{money, zone, ConsultingSessionId, ResearcherId, SessionStatus, UserId};
use crate::pagination::PageParams;
use crate::services::researchers;
use crate::services::sessions::admin::{self, AdminListQuery, AdminSessionRow};
use crate::state::AppState;

/// Rows per page.
const PER_PAGE: usize = 50;

const LABELS: Labels = &[
    ("status", "Status"),
    ("from", "From"),
    ("to", "To"),
    ("researcher_id", "Researcher"),
];

/// The filter as typed: kept on the page, also when it fails.
#[derive(Deserialize, Default, Clone)]
pub struct SessionFilter {
    pub status: Option<String>,
    /// A day (`YYYY-MM-DD`) in the admin's zone: sessions from its start.
    pub from: Option<String>,
    /// A day in the admin's zone: sessions up to its end.
    pub to: Option<String>,
    pub researcher_id: Option<ResearcherId>,
    pub cursor: Option<String>,
}

impl SessionFilter {
    fn status(&self) -> &str {
        self.status.as_deref().unwrap_or_default()
    }

    fn from(&self) -> &str {
        self.from.as_deref().unwrap_or_default()
    }

    fn to(&self) -> &str {
        self.to.as_deref().unwrap_or_default()
    }

    /// Whether anything narrows the list (the empty state says so).
    fn narrows(&self) -> bool {
        !self.status().is_empty()
            || !self.from().is_empty()
            || !self.to().is_empty()
            || self.researcher_id.is_some()
    }

    /// This filter as a query string, for the "Older" link.
    fn query(&self, cursor: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("status", self.status()),
            ("from", self.from()),
            ("to", self.to()),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        if let Some(r) = self.researcher_id {
            q.append_pair("researcher_id", &r.to_string());
        }
        q.append_pair("cursor", cursor);
        q.finish()
    }
}

/// A session as a row of the table, in the admin's words and zone.
pub struct SessionLine {
    pub id: ConsultingSessionId,
    pub when: String,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub reader_id: UserId,
    pub reader_name: String,
    pub status: SessionStatus,
    pub price: String,
    pub payment: Option<&'static str>,
}

impl SessionLine {
    fn new(r: AdminSessionRow, tz: Tz) -> Self {
        Self {
            id: r.id,
            when: zone::short(r.start, tz),
            researcher_id: r.researcher_id,
            researcher_name: r.researcher_name,
            reader_id: r.reader_id,
            reader_name: r.reader_name,
            status: r.status,
            price: if r.price_minor == 0 {
                "free".into()
            } else {
                money::format(r.price_minor, &r.currency)
            },
            payment: r.payment_status.map(|p| p.label()),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/admin_sessions.html")]
pub struct AdminSessionsPage {
    pub layout: Layout,
    pub sessions: Vec<SessionLine>,
    pub statuses: &'static [SessionStatus],
    pub filter: SessionFilter,
    /// The researcher the list is narrowed to, by name.
    pub researcher: Option<String>,
    pub next: Option<String>,
    /// The zone the times are in.
    pub zone: String,
    pub errors: FormErrors,
}

pub async fn admin_sessions_get(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(filter): Query<SessionFilter>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/sessions")?;
    let tz = viewer.zone(None);
    let mut errors = FormErrors::default();
    let from = day_start(&mut errors, ("from", "From"), filter.from(), tz, 0);
    let to = day_start(&mut errors, ("to", "To"), filter.to(), tz, 1);
    let mut sessions = Vec::new();
    let mut next = None;
    if !errors.failed() {
        let q = AdminListQuery {
            status: Some(filter.status().to_string()).filter(|s| !s.is_empty()),
            from,
            to,
            researcher: filter.researcher_id,
        };
        let page = PageParams {
            limit: Some(PER_PAGE),
            cursor: filter.cursor.clone(),
        };
        match admin::list(&state, &who, q, &page).await {
            Ok(p) => {
                next = p
                    .next_cursor
                    .map(|c| format!("/admin/sessions?{}", filter.query(&c)));
                sessions = p
                    .items
                    .into_iter()
                    .map(|r| SessionLine::new(r, tz))
                    .collect();
            }
            Err(e) => errors.absorb(e, LABELS)?,
        }
    }
    let researcher = match filter.researcher_id {
        Some(id) => Some(match sessions.first() {
            Some(s) => s.researcher_name.clone(),
            None => researchers::get(&state, None, id).await?.name,
        }),
        None => None,
    };
    let page = AdminSessionsPage {
        layout: viewer.layout("Sessions"),
        sessions,
        statuses: SessionStatus::ALL,
        filter,
        researcher,
        next,
        zone: tz.name().to_string(),
        errors,
    };
    Ok(if page.errors.failed() {
        page.errors.respond(&page)
    } else {
        render(&page)
    })
}

/// The start of the day typed into `field` (name, label), `plus_days`
/// later, in the admin's zone; a message next to the field when it is not
/// a date.
fn day_start(
    errors: &mut FormErrors,
    (field, label): (&str, &str),
    typed: &str,
    tz: Tz,
    plus_days: i64,
) -> Option<DateTime<Utc>> {
    let typed = typed.trim();
    if typed.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(typed, "%Y-%m-%d") {
        Ok(d) => Some(local_instant(tz, d + Duration::days(plus_days), 0, false)),
        Err(_) => {
            errors.add(
                field,
                sentence(Some(label), "must be a date such as 2026-12-07"),
            );
            None
        }
    }
}
