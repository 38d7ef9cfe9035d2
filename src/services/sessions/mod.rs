//! Consulting sessions: booking, the lifecycle (accept, decline, cancel,
//! reschedule, no-show), video links, calendar invites, notifications and
//! the scheduled jobs (expiry, reminders, completion).
//!
//! ```text
//! requested → accepted | declined | expired | cancelled
//! accepted  → completed | cancelled | no_show
//! completed → no_show   (a no-show claim upheld after the completion job)
//! ```
//!
//! A participant's no-show report is a claim (`services::disputes`): the
//! session stays accepted, and is not completed, until the claim is
//! decided.

pub mod actions;
pub mod admin;
pub mod booking;
pub mod calendar;
mod filters;
pub mod jobs;
pub mod lifecycle;
pub mod no_show;
pub mod notify;
pub mod pay;
pub mod reschedule;
pub mod settings;
pub mod video;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::SessionsConfig;
use crate::db::repos::consulting_sessions::{self, ListFilter, SessionEvent, SessionRow};
use crate::db::repos::researchers;
use crate::domain::zone::{self, Tz};
use crate::domain::{ConsultingSessionId, PaperId, QueryId, ResearcherId, SessionStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageParams};
use crate::services::accounts::Principal;
use crate::state::AppState;
use filters::{check_range, parse_status};

/// The caller's part in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    Reader,
    Researcher,
    Admin,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Reader => "reader",
            Party::Researcher => "researcher",
            Party::Admin => "admin",
        }
    }
}

/// The caller's part; `NotFound` for anyone else, so ids do not leak.
pub fn party_of(s: &SessionRow, who: &Principal) -> AppResult<Party> {
    if s.reader_id == who.user_id {
        Ok(Party::Reader)
    } else if s.researcher_user == Some(who.user_id) {
        Ok(Party::Researcher)
    } else if who.is_admin() {
        Ok(Party::Admin)
    } else {
        Err(AppError::NotFound)
    }
}

/// A session as its participants see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    pub id: ConsultingSessionId,
    pub status: SessionStatus,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub reader_id: UserId,
    pub reader_name: String,
    pub paper_id: Option<PaperId>,
    pub paper_title: Option<String>,
    pub query_id: Option<QueryId>,
    pub topic: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub duration_minutes: i64,
    /// Minor units; 0 means free.
    pub price_minor: i64,
    pub currency: String,
    /// When an unanswered request expires; for a priced request whose
    /// card is not held yet, when its payment window ends.
    pub expires_at: DateTime<Utc>,
    /// Why an expired request expired: `payment_not_completed` (not paid
    /// within the payment window) or `not_answered`.
    pub expiry_reason: Option<String>,
    /// A priced request whose card is not held: the reader has until
    /// `expires_at` to pay. For the researcher: a request whose hold
    /// lapsed, waiting for the reader's new payment.
    pub waiting_for_payment: bool,
    /// The join link, once the session is accepted.
    pub meeting_url: Option<String>,
    pub meeting_password: Option<String>,
    /// `zoom` or `template`.
    pub meeting_provider: Option<String>,
    /// A proposed new time awaiting the other party.
    pub proposed_start: Option<DateTime<Utc>>,
    pub proposed_end: Option<DateTime<Utc>>,
    pub proposed_by: Option<String>,
    pub cancel_reason: Option<String>,
    pub cancelled_by: Option<String>,
    /// Who did not come, when a no-show was reported.
    pub no_show_party: Option<String>,
    /// The researcher's IANA zone: the one their pages and e-mails use.
    pub researcher_timezone: String,
    /// The reader's IANA zone (`UTC` until they pick one).
    pub reader_timezone: String,
    /// The caller's part: reader, researcher or admin.
    pub your_role: Party,
    /// What the caller may do now, e.g. `accept`, `cancel`.
    pub actions: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A session with its history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: SessionView,
    pub events: Vec<HistoryEntry>,
    /// With `[reviews] two_way`: how researchers rated this reader. Only
    /// for admins, and for the researcher while the request waits for
    /// their answer; absent otherwise and before the first rating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reader_rating: Option<crate::domain::rating::RatingView>,
}

/// One step of a session's history: what happened, who did it, when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// `requested`, `accepted`, `declined`, `cancelled`, `rescheduled`, …
    pub event: String,
    /// `reader`, `researcher`, `admin` or `system`.
    pub actor: String,
    pub at: String,
}

impl From<SessionEvent> for HistoryEntry {
    fn from(e: SessionEvent) -> Self {
        Self {
            event: e.event,
            actor: e.actor,
            at: e.at,
        }
    }
}

/// The zone a participant reads the session's times in: the account's;
/// for the researcher else the profile's, else `[sessions]
/// default_timezone`; for the reader else UTC.
pub fn zone_of(s: &SessionRow, party: Party, c: &SessionsConfig) -> Tz {
    match party {
        Party::Researcher => zone::first_of(
            [
                s.researcher_timezone.as_deref(),
                Some(c.default_timezone.as_str()),
            ],
            zone::DEFAULT,
        ),
        Party::Reader | Party::Admin => {
            zone::first_of([s.reader_timezone.as_deref()], zone::DEFAULT)
        }
    }
}

pub fn view(s: SessionRow, party: Party, now: DateTime<Utc>, c: &SessionsConfig) -> SessionView {
    let actions = lifecycle::allowed_actions(&s, party, now, c.completion_grace_hours)
        .into_iter()
        .map(str::to_string)
        .collect();
    let joinable = matches!(s.status, SessionStatus::Accepted | SessionStatus::Completed);
    let waiting_for_payment = s.awaiting_payment();
    let researcher_timezone = zone_of(&s, Party::Researcher, c).name().to_string();
    let reader_timezone = zone_of(&s, Party::Reader, c).name().to_string();
    SessionView {
        researcher_timezone,
        reader_timezone,
        id: s.id,
        status: s.status,
        researcher_id: s.researcher_id,
        researcher_name: s.researcher_name,
        reader_id: s.reader_id,
        reader_name: s.reader_name,
        paper_id: s.paper_id,
        paper_title: s.paper_title,
        query_id: s.query_id,
        topic: s.topic,
        start: s.start,
        end: s.end,
        duration_minutes: s.duration_minutes,
        price_minor: s.price_minor,
        currency: s.currency,
        expires_at: s.expires_at,
        expiry_reason: s.expiry_reason,
        waiting_for_payment,
        meeting_url: s.meeting_url.filter(|_| joinable),
        meeting_password: s.meeting_password.filter(|_| joinable),
        meeting_provider: s.meeting_provider,
        proposed_start: s.proposed_start,
        proposed_end: s.proposed_end,
        proposed_by: s.proposed_by,
        cancel_reason: s.cancel_reason,
        cancelled_by: s.cancelled_by,
        no_show_party: s.no_show_party,
        your_role: party,
        actions,
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

/// Loads a session the caller takes part in (or any, for an admin). A
/// request whose answer or payment time ran out is expired here, before
/// the job comes to it, so no one sees it as open.
pub async fn load_for(
    state: &AppState,
    who: &Principal,
    id: ConsultingSessionId,
) -> AppResult<(SessionRow, Party)> {
    let (mut row, mut payment) = read_with_payment(state, id).await?;
    let now = state.now();
    if row
        .as_ref()
        .is_some_and(|r| r.status == SessionStatus::Requested && r.expires_at <= now)
    {
        match jobs::expire_one(state, id, now).await {
            Ok(true) => (row, payment) = read_with_payment(state, id).await?,
            Ok(false) => {}
            // Stripe could not let the hold go: the job tries again.
            Err(e) => {
                tracing::warn!(session = %id, error = %e, "could not expire a due request on read")
            }
        }
    }
    let row = row.ok_or(AppError::NotFound)?;
    let party = party_of(&row, who)?;
    if party == Party::Researcher
        && !crate::services::payments::held::visible_to_researcher(payment.as_ref())
    {
        return Err(AppError::NotFound);
    }
    Ok((row, party))
}

async fn read_with_payment(
    state: &AppState,
    id: ConsultingSessionId,
) -> AppResult<(
    Option<SessionRow>,
    Option<crate::db::repos::payments::SessionPayment>,
)> {
    let keys = state.keys.clone();
    state
        .db
        .read(move |c| {
            Ok((
                consulting_sessions::find(c, &keys, id)?,
                crate::db::repos::payments::find(c, id)?,
            ))
        })
        .await
}

pub async fn get(
    state: &AppState,
    who: &Principal,
    id: ConsultingSessionId,
) -> AppResult<SessionDetail> {
    let (row, party) = load_for(state, who, id).await?;
    let shows_rating = state.config.reviews.two_way
        && (party == Party::Admin
            || party == Party::Researcher && row.status == SessionStatus::Requested);
    let reader = row.reader_id;
    let (events, tally) = state
        .db
        .read(move |c| {
            let tally = if shows_rating {
                Some(crate::db::repos::reviews::reader_tally(c, reader)?)
            } else {
                None
            };
            Ok((consulting_sessions::events(c, id)?, tally))
        })
        .await?;
    Ok(SessionDetail {
        session: view(row, party, state.now(), &state.config.sessions),
        events: events.into_iter().map(HistoryEntry::from).collect(),
        reader_rating: tally
            .and_then(|(count, total)| crate::domain::rating::RatingView::new(count, total)),
    })
}

/// Filters of `GET /consulting/sessions`.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// As given in the query string; checked by `list`.
    pub status: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Admins only: every session, not just their own.
    pub all: bool,
}

/// My sessions as reader or researcher, newest first.
pub async fn list(
    state: &AppState,
    who: &Principal,
    q: ListQuery,
    page: &PageParams,
) -> AppResult<Page<SessionView>> {
    let status = parse_status(q.status.as_deref())?;
    if q.all && !who.is_admin() {
        return Err(AppError::Forbidden);
    }
    check_range(q.from, q.to)?;
    let limit = page.limit()?;
    let before_id = page.after_id()?;
    let keys = state.keys.clone();
    let user = who.user_id;
    let rows = state
        .db
        .read(move |c| {
            let researcher = researchers::by_user(c, user)?;
            consulting_sessions::list(
                c,
                &keys,
                &ListFilter {
                    user,
                    researcher,
                    all: q.all,
                    status,
                    from: q.from,
                    starts_from: None,
                    to: q.to,
                    of_researcher: None,
                    before_id,
                    limit: limit + 1,
                },
            )
        })
        .await?;
    let now = state.now();
    let views = rows
        .into_iter()
        .map(|r| {
            let party = party_of(&r, who).unwrap_or(Party::Admin);
            view(r, party, now, &state.config.sessions)
        })
        .collect();
    Ok(Page::from_rows(views, limit, |v: &SessionView| v.id))
}

/// The calendar file of a session (participants only).
pub async fn ics(state: &AppState, who: &Principal, id: ConsultingSessionId) -> AppResult<String> {
    let (row, party) = load_for(state, who, id).await?;
    let tz = match party {
        Party::Admin => crate::services::accounts::zone_of(
            &crate::services::accounts::get_user(state, who.user_id).await?,
        ),
        p => zone_of(&row, p, &state.config.sessions),
    };
    let method = match row.status {
        SessionStatus::Accepted | SessionStatus::Completed | SessionStatus::NoShow => {
            calendar::Method::Request
        }
        SessionStatus::Cancelled => calendar::Method::Cancel,
        SessionStatus::Requested | SessionStatus::Declined | SessionStatus::Expired => {
            return Err(AppError::conflict(
                "not_scheduled",
                "The session has no calendar entry until it is accepted.",
            ))
        }
    };
    notify::invite_for(state, &row, method, tz).await
}

/// The session behind an e-mail's accept/decline link: the link is the
/// researcher's credential, so they can answer without logging in.
pub async fn load_with_link(
    state: &AppState,
    id: ConsultingSessionId,
    token: &str,
) -> AppResult<SessionRow> {
    use crate::services::link_tokens::{self, LinkProblem};
    let claims = link_tokens::verify(
        &state.keys,
        token,
        link_tokens::SESSION_RESPOND,
        state.now(),
    )
    .map_err(|(p, _)| p.into_error())?;
    if claims.session() != id {
        return Err(LinkProblem::WrongPurpose.into_error());
    }
    let keys = state.keys.clone();
    let row = state
        .db
        .read(move |c| consulting_sessions::find(c, &keys, id))
        .await?
        .ok_or(AppError::NotFound)?;
    if row.researcher_id != claims.rid {
        return Err(LinkProblem::WrongPurpose.into_error());
    }
    Ok(row)
}
