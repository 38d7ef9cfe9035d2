//! The admins' list of every session (`GET /api/v1/admin/sessions` and
//! the `/admin/sessions` page): by status, start time and researcher,
//! newest id first, each row with its payment's status.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::filters::{check_range, parse_status};
use crate::db::repos::consulting_sessions::{self, ListFilter, SessionRow};
use crate::db::repos::payments;
use crate::domain::{ConsultingSessionId, PaymentStatus, ResearcherId, SessionStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageParams};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// Filters of the admins' session list.
#[derive(Debug, Clone, Default)]
pub struct AdminListQuery {
    /// As given in the query string; checked by `list`.
    pub status: Option<String>,
    /// Sessions starting at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before this time.
    pub to: Option<DateTime<Utc>>,
    pub researcher: Option<ResearcherId>,
}

/// One session in the admins' list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminSessionRow {
    pub id: ConsultingSessionId,
    pub status: SessionStatus,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub reader_id: UserId,
    pub reader_name: String,
    /// Minor units; 0 means free.
    pub price_minor: i64,
    pub currency: String,
    /// Where the payment stands; absent for sessions without one (free,
    /// or booked while payments were off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<PaymentStatus>,
    pub created_at: DateTime<Utc>,
}

impl AdminSessionRow {
    fn new(s: SessionRow, payment_status: Option<PaymentStatus>) -> Self {
        Self {
            id: s.id,
            status: s.status,
            start: s.start,
            end: s.end,
            researcher_id: s.researcher_id,
            researcher_name: s.researcher_name,
            reader_id: s.reader_id,
            reader_name: s.reader_name,
            price_minor: s.price_minor,
            currency: s.currency,
            payment_status,
            created_at: s.created_at,
        }
    }
}

/// Every session matching `q`, newest id first (admins only). The cursor
/// is the last id of the page, so sessions booked meanwhile never shift
/// the pages an admin is walking through.
pub async fn list(
    state: &AppState,
    who: &Principal,
    q: AdminListQuery,
    page: &PageParams,
) -> AppResult<Page<AdminSessionRow>> {
    if !who.is_admin() {
        return Err(AppError::Forbidden);
    }
    let status = parse_status(q.status.as_deref())?;
    check_range(q.from, q.to)?;
    let limit = page.limit()?;
    let before_id = page.after_id()?;
    let keys = state.keys.clone();
    let user = who.user_id;
    let rows = state
        .db
        .read(move |c| {
            let rows = consulting_sessions::list(
                c,
                &keys,
                &ListFilter {
                    user,
                    researcher: None,
                    all: true,
                    status,
                    from: None,
                    starts_from: q.from,
                    to: q.to,
                    of_researcher: q.researcher,
                    before_id,
                    limit: limit + 1,
                },
            )?;
            rows.into_iter()
                .map(|r| {
                    let paid = payments::find(c, r.id)?.map(|p| p.status);
                    Ok(AdminSessionRow::new(r, paid))
                })
                .collect::<AppResult<Vec<_>>>()
        })
        .await?;
    Ok(Page::from_rows(rows, limit, |r: &AdminSessionRow| r.id))
}
