//! Each role's home: a reader's "what's next, and what did I spend", a
//! researcher's "what needs my answer, what did I earn, how am I rated".
//! Months are the person's own (their zone), and money is per currency.

use chrono::{DateTime, Months, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::buckets::{local_date, Bucket, Buckets};
use super::money::{months_by_currency, MonthMoney};
use super::{median, rate, round1};
use crate::db::repos::analytics::dashboards as repo;
use crate::db::repos::consulting_sessions::{self as sessions, Party, SessionRow};
use crate::db::repos::researchers;
use crate::db::ts;
use crate::domain::{zone, ConsultingSessionId, PaperId, ResearcherId, SessionStatus};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// Months shown in spending and earnings, the current one included.
pub const MONTHS: u32 = 12;
/// Sessions listed per list.
pub const LISTED: usize = 10;

/// A session in a dashboard list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionBrief {
    pub id: ConsultingSessionId,
    pub status: SessionStatus,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub reader_name: String,
    pub topic: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paper_title: Option<String>,
    /// When an unanswered request expires.
    pub expires_at: DateTime<Utc>,
}

impl From<SessionRow> for SessionBrief {
    fn from(s: SessionRow) -> Self {
        Self {
            id: s.id,
            status: s.status,
            start: s.start,
            end: s.end,
            researcher_id: s.researcher_id,
            researcher_name: s.researcher_name,
            reader_name: s.reader_name,
            topic: s.topic,
            paper_title: s.paper_title,
            expires_at: s.expires_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserDashboard {
    /// Accepted sessions that have not ended, soonest first.
    pub upcoming_sessions: Vec<SessionBrief>,
    /// Requests the researcher has not answered yet.
    pub awaiting_answer: Vec<SessionBrief>,
    /// Sessions that took place (completed or no-show).
    pub past_sessions: i64,
    /// Completed sessions still open for a review by you.
    pub reviews_to_write: Vec<ConsultingSessionId>,
    /// The last twelve months in the currency you paid most in (the
    /// configured default currency when you paid nothing).
    pub spending: Spending,
    /// The same for every currency you paid in.
    pub spending_by_currency: Vec<Spending>,
    pub subscription: Option<SubscriptionBrief>,
    /// Researchers you asked us to invite, and how many joined.
    pub invitations: Invitations,
    /// The zone months are counted in.
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Spending {
    pub currency: String,
    /// Captured session payments and plan charges (with tax).
    pub paid_minor: i64,
    pub refunded_minor: i64,
    pub by_month: Vec<MonthSpend>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthSpend {
    /// `YYYY-MM`.
    pub month: String,
    pub paid_minor: i64,
    pub refunded_minor: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionBrief {
    /// The plan's name (its id when no longer configured).
    pub plan: String,
    pub plan_id: String,
    pub status: String,
    /// Sessions left free in this period.
    pub included_left: i64,
    /// When the period ends (renews, unless cancelled at period end).
    pub renews_at: Option<String>,
    pub cancel_at_period_end: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invitations {
    pub sent: i64,
    pub joined: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResearcherDashboard {
    pub researcher_id: ResearcherId,
    /// Paid-for requests waiting for your answer, soonest first.
    pub pending_requests: Vec<PendingRequest>,
    /// Accepted sessions that have not ended, soonest first.
    pub upcoming_sessions: Vec<SessionBrief>,
    /// The last twelve months in your prices' currency.
    pub earnings: Earnings,
    /// The same for every currency you were paid in.
    pub earnings_by_currency: Vec<Earnings>,
    /// Published reader reviews; null until there are some.
    pub rating: Option<Rating>,
    /// Accepted out of accepted, declined and expired requests (0 to 1);
    /// null before the first answer.
    pub acceptance_rate: Option<f64>,
    /// Median hours from request to your answer; null before the first.
    pub median_response_hours: Option<f64>,
    pub profile_completeness: Completeness,
    pub demand: Demand,
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingRequest {
    pub id: ConsultingSessionId,
    pub start: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub reader_name: String,
    pub topic: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Earnings {
    pub currency: String,
    /// Every month of the last twelve, empty ones included.
    pub by_month: Vec<MonthMoney>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rating {
    /// Stars, one decimal.
    pub average: f64,
    pub count: i64,
    /// How many reviews gave 1, 2, 3, 4 and 5 stars.
    pub distribution: [i64; 5],
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Completeness {
    pub percent: i64,
    /// Fields still empty: `affiliation`, `orcid`, `bio`, `homepage`,
    /// `topics`, `timezone`, `booking_settings`, `availability`,
    /// `listing_consent`.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Demand {
    /// Readers who asked to consult you.
    pub readers_waiting: i64,
    /// The papers they asked through, most asked first.
    pub papers: Vec<PaperDemand>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaperDemand {
    pub paper_id: PaperId,
    pub title: String,
    pub readers: i64,
}

/// Twelve month buckets ending with the current month in `tz`.
fn months(tz: zone::Tz, now: DateTime<Utc>) -> AppResult<Buckets> {
    let this = Bucket::Month.floor(local_date(tz, now));
    let first = this - Months::new(MONTHS - 1);
    Buckets::cover(Bucket::Month, tz, first, this + Months::new(1)).map_err(AppError::internal)
}

pub async fn user(state: &AppState, who: &Principal) -> AppResult<UserDashboard> {
    let (user, now, keys) = (who.user_id, state.now(), state.keys.clone());
    let review_since = ts(now - chrono::Duration::days(state.config.reviews.window_days));
    let default_currency = state.config.sessions.default_currency.clone();
    let (facts, tz, rest) = state
        .db
        .read(move |c| {
            let (account, _) = repo::zone_names(c, user, None)?;
            let tz = zone::first_of([account.as_deref()], zone::DEFAULT);
            let b = months(tz, now)?;
            let facts = repo::spending(c, user, &ts(b.start()))?;
            let upcoming = sessions::upcoming(
                c,
                &keys,
                Party::Reader(user),
                SessionStatus::Accepted,
                now,
                LISTED,
            )?;
            let awaiting = sessions::upcoming(
                c,
                &keys,
                Party::Reader(user),
                SessionStatus::Requested,
                now,
                LISTED,
            )?;
            let rest = (
                upcoming,
                awaiting,
                repo::past_sessions(c, user)?,
                repo::reviews_to_write(c, user, &review_since)?,
                repo::invitations(c, user)?,
            );
            Ok(((b, facts), tz, rest))
        })
        .await?;
    let (b, facts) = facts;
    let (upcoming, awaiting, past, reviews, (sent, joined)) = rest;
    let mut by_currency: Vec<Spending> = months_by_currency(&b, &facts)
        .into_iter()
        .map(|(currency, months)| Spending {
            currency,
            paid_minor: months.iter().map(|m| m.gross_minor).sum(),
            refunded_minor: months.iter().map(|m| m.refunds_minor).sum(),
            by_month: months
                .into_iter()
                .map(|m| MonthSpend {
                    month: m.month,
                    paid_minor: m.gross_minor,
                    refunded_minor: m.refunds_minor,
                })
                .collect(),
        })
        .collect();
    by_currency.sort_by(|a, b| {
        b.paid_minor
            .cmp(&a.paid_minor)
            .then(a.currency.cmp(&b.currency))
    });
    let spending = by_currency.first().cloned().unwrap_or_else(|| Spending {
        currency: default_currency,
        paid_minor: 0,
        refunded_minor: 0,
        by_month: b
            .days
            .iter()
            .map(|d| MonthSpend {
                month: d.format("%Y-%m").to_string(),
                paid_minor: 0,
                refunded_minor: 0,
            })
            .collect(),
    });
    Ok(UserDashboard {
        upcoming_sessions: upcoming.into_iter().map(SessionBrief::from).collect(),
        awaiting_answer: awaiting.into_iter().map(SessionBrief::from).collect(),
        past_sessions: past,
        reviews_to_write: reviews.into_iter().map(ConsultingSessionId).collect(),
        spending,
        spending_by_currency: by_currency,
        subscription: subscription(state, who).await?,
        invitations: Invitations { sent, joined },
        timezone: tz.name().to_string(),
    })
}

async fn subscription(state: &AppState, who: &Principal) -> AppResult<Option<SubscriptionBrief>> {
    let Some(view) = crate::services::payments::subscriptions::mine(state, who).await? else {
        return Ok(None);
    };
    let s = view.subscription;
    let included = view.plan.as_ref().map_or(0, |p| p.included_sessions);
    Ok(Some(SubscriptionBrief {
        plan: view.plan.map_or_else(|| s.plan_id.clone(), |p| p.name),
        plan_id: s.plan_id,
        status: s.status.as_str().to_string(),
        included_left: if view.is_active {
            (included - s.sessions_used).max(0)
        } else {
            0
        },
        renews_at: s.current_period_end,
        cancel_at_period_end: s.cancel_at_period_end,
    }))
}

/// The researcher profile an account owns; `Forbidden` without one.
pub async fn own_profile(state: &AppState, who: &Principal) -> AppResult<ResearcherId> {
    let user = who.user_id;
    state
        .db
        .read(move |c| researchers::by_user(c, user))
        .await?
        .ok_or_else(|| {
            AppError::refused(
                "no_researcher_profile",
                "This dashboard is for researchers with a linked profile.",
            )
        })
}

pub async fn researcher(
    state: &AppState,
    who: &Principal,
    id: ResearcherId,
) -> AppResult<ResearcherDashboard> {
    let (user, now, keys) = (who.user_id, state.now(), state.keys.clone());
    let default_currency = state.config.sessions.default_currency.clone();
    let raw = state
        .db
        .read(move |c| {
            let (account, profile) = repo::zone_names(c, user, Some(id))?;
            let tz = zone::first_of([account.as_deref(), profile.as_deref()], zone::DEFAULT);
            let b = months(tz, now)?;
            Ok(ResearcherRaw {
                facts: repo::earnings(c, id, &ts(b.start()))?,
                months: b,
                tz,
                pending: sessions::upcoming(
                    c,
                    &keys,
                    Party::Researcher(id),
                    SessionStatus::Requested,
                    now,
                    LISTED,
                )?,
                upcoming: sessions::upcoming(
                    c,
                    &keys,
                    Party::Researcher(id),
                    SessionStatus::Accepted,
                    now,
                    LISTED,
                )?,
                answers: repo::answers(c, id)?,
                hours: repo::response_hours(c, id)?,
                ratings: repo::ratings(c, id)?,
                parts: repo::profile_parts(c, id)?,
                demand: repo::demand(c, id, 5)?,
                currency: repo::researcher_currency(c, id)?,
            })
        })
        .await?;
    let mut by_currency: Vec<Earnings> = months_by_currency(&raw.months, &raw.facts)
        .into_iter()
        .map(|(currency, by_month)| Earnings { currency, by_month })
        .collect();
    let main = raw.currency.unwrap_or(default_currency).to_uppercase();
    by_currency.sort_by_key(|e| (e.currency != main, e.currency.clone()));
    let earnings = by_currency
        .iter()
        .find(|e| e.currency == main)
        .cloned()
        .unwrap_or_else(|| Earnings {
            currency: main.clone(),
            by_month: raw
                .months
                .days
                .iter()
                .map(|d| MonthMoney {
                    month: d.format("%Y-%m").to_string(),
                    ..Default::default()
                })
                .collect(),
        });
    let (accepted, declined, expired) = raw.answers;
    Ok(ResearcherDashboard {
        researcher_id: id,
        pending_requests: raw
            .pending
            .into_iter()
            .map(|s| PendingRequest {
                id: s.id,
                start: s.start,
                expires_at: s.expires_at,
                reader_name: s.reader_name,
                topic: s.topic,
            })
            .collect(),
        upcoming_sessions: raw.upcoming.into_iter().map(SessionBrief::from).collect(),
        earnings,
        earnings_by_currency: by_currency,
        rating: raw.ratings.filter(|(count, _, _)| *count > 0).map(
            |(count, total, distribution)| Rating {
                average: round1(total as f64 / count as f64),
                count,
                distribution,
            },
        ),
        acceptance_rate: rate(accepted, accepted + declined + expired),
        median_response_hours: median(raw.hours),
        profile_completeness: completeness(&raw.parts),
        demand: Demand {
            readers_waiting: raw.demand.0,
            papers: raw
                .demand
                .1
                .into_iter()
                .map(|(paper_id, title, readers)| PaperDemand {
                    paper_id,
                    title,
                    readers,
                })
                .collect(),
        },
        timezone: raw.tz.name().to_string(),
    })
}

struct ResearcherRaw {
    facts: Vec<crate::db::repos::analytics::MoneyFact>,
    months: Buckets,
    tz: zone::Tz,
    pending: Vec<SessionRow>,
    upcoming: Vec<SessionRow>,
    answers: (i64, i64, i64),
    hours: Vec<f64>,
    ratings: Option<(i64, i64, [i64; 5])>,
    parts: repo::ProfileParts,
    demand: (i64, Vec<repo::PaperAsks>),
    currency: Option<String>,
}

fn completeness(p: &repo::ProfileParts) -> Completeness {
    let fields = [
        ("affiliation", p.affiliation),
        ("orcid", p.orcid),
        ("bio", p.bio),
        ("homepage", p.homepage),
        ("topics", p.topics),
        ("timezone", p.timezone),
        ("booking_settings", p.booking_settings),
        ("availability", p.availability),
        ("listing_consent", p.listing_consent),
    ];
    let filled = fields.iter().filter(|(_, ok)| *ok).count() as i64;
    Completeness {
        percent: filled * 100 / fields.len() as i64,
        missing: fields
            .iter()
            .filter(|(_, ok)| !*ok)
            .map(|(name, _)| name.to_string())
            .collect(),
    }
}
