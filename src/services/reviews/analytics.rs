//! Review figures for a researcher (their own, or any for admins) and
//! over all researchers: the distribution, the average by month, how many
//! reviews were answered, and which rules held how many.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::rules::HoldRule;
use super::Summary;
use crate::db::repos::reviews::{self as repo};
use crate::domain::ResearcherId;
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthAverage {
    /// `2026-11`.
    pub month: String,
    pub average: f64,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleShare {
    /// The rule's name, as in `held_rule`.
    pub rule: String,
    pub label: String,
    pub held: i64,
    /// Of all reviews written, 0.0 to 1.0.
    pub share: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewAnalytics {
    /// Published reviews: average, count and distribution.
    pub summary: Summary,
    pub by_month: Vec<MonthAverage>,
    /// Published reviews with a published answer, 0.0 to 1.0 (null before
    /// the first review).
    pub answer_rate: Option<f64>,
    /// Reviews written, whatever became of them.
    pub written: i64,
    /// How many each auto-hold rule held, and their share of all written.
    pub held_by_rule: Vec<RuleShare>,
}

fn figures(
    c: &rusqlite::Connection,
    researcher: Option<ResearcherId>,
) -> AppResult<ReviewAnalytics> {
    let f = repo::figures(c, researcher)?;
    let share = |n: i64| {
        if f.written == 0 {
            0.0
        } else {
            n as f64 / f.written as f64
        }
    };
    let held: BTreeMap<String, i64> = f.held_by_rule.into_iter().collect();
    Ok(ReviewAnalytics {
        summary: Summary::from(f.tally),
        by_month: f
            .by_month
            .into_iter()
            .map(|(month, total, count)| MonthAverage {
                month,
                average: crate::domain::rating::rounded(total as f64 / count.max(1) as f64),
                count,
            })
            .collect(),
        answer_rate: (f.tally.count > 0).then(|| f.answered as f64 / f.tally.count as f64),
        written: f.written,
        held_by_rule: HoldRule::ALL
            .into_iter()
            .map(|r| {
                let n = held.get(r.as_str()).copied().unwrap_or(0);
                RuleShare {
                    rule: r.as_str().into(),
                    label: r.label().into(),
                    held: n,
                    share: share(n),
                }
            })
            .collect(),
    })
}

/// One researcher's figures: for the researcher who owns the profile and
/// for admins (403 for anyone else).
pub async fn for_researcher(
    state: &AppState,
    who: &Principal,
    id: ResearcherId,
) -> AppResult<ReviewAnalytics> {
    let (keys, who) = (state.keys.clone(), *who);
    state
        .db
        .read(move |c| {
            let p = crate::db::repos::researchers::find(c, &keys, id)?.ok_or(AppError::NotFound)?;
            if p.user_id != Some(who.user_id) && !who.is_admin() {
                return Err(AppError::Forbidden);
            }
            figures(c, Some(id))
        })
        .await
}

/// The same figures over all researchers (admins).
pub async fn overall(state: &AppState, who: &Principal) -> AppResult<ReviewAnalytics> {
    who.require_admin()?;
    state.db.read(|c| figures(c, None)).await
}
