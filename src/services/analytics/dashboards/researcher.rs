//! A researcher's dashboard: what needs an answer, what they earned, how
//! they are rated.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{months, SessionBrief, LISTED};
use crate::db::repos::analytics::dashboards as repo;
use crate::db::repos::consulting_sessions::{self as sessions, Party, SessionRow};
use crate::db::ts;
use crate::domain::{zone, ConsultingSessionId, PaperId, ResearcherId, SessionStatus};
use crate::error::AppResult;
use crate::services::accounts::Principal;
use crate::services::analytics::buckets::Buckets;
use crate::services::analytics::money::{months_by_currency, MonthMoney};
use crate::services::analytics::{median, rate, round1};
use crate::state::AppState;

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

pub async fn researcher(
    state: &AppState,
    who: &Principal,
    id: ResearcherId,
) -> AppResult<ResearcherDashboard> {
    let (user, now, keys) = (who.user_id, state.now(), state.keys.clone());
    let default_currency = state.config.sessions.default_currency.clone();
    // Two reads at once on two reader connections: the money and answer
    // history (the larger), and the open work and profile.
    let history = state.db.read(move |c| {
        let (account, profile) = repo::zone_names(c, user, Some(id))?;
        let tz = zone::first_of([account.as_deref(), profile.as_deref()], zone::DEFAULT);
        let b = months(tz, now)?;
        Ok((
            repo::earnings(c, id, &ts(b.start()))?,
            b,
            tz,
            repo::answers(c, id)?,
            repo::response_hours(c, id)?,
        ))
    });
    let open = state.db.read(move |c| {
        Ok((
            sessions::upcoming(
                c,
                &keys,
                Party::Researcher(id),
                SessionStatus::Requested,
                now,
                LISTED,
            )?,
            sessions::upcoming(
                c,
                &keys,
                Party::Researcher(id),
                SessionStatus::Accepted,
                now,
                LISTED,
            )?,
            repo::ratings(c, id)?,
            repo::profile_parts(c, id)?,
            repo::demand(c, id, 5)?,
            repo::researcher_currency(c, id)?,
        ))
    });
    let (history, open) = tokio::try_join!(history, open)?;
    let (facts, months, tz, answers, hours) = history;
    let (pending, upcoming, ratings, parts, demand, currency) = open;
    let raw = ResearcherRaw {
        facts,
        months,
        tz,
        pending,
        upcoming,
        answers,
        hours,
        ratings,
        parts,
        demand,
        currency,
    };
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
