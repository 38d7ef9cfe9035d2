//! Sessions in the admins' analytics: what happened per bucket, the
//! sessions requested in the range by status and how far they got, and
//! how long researchers took to answer. Two index range scans (events and
//! requests in the range) and the rest in memory.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use super::buckets::Buckets;
use super::{median, rate, series};
use crate::db::repos::analytics::{self as repo, EventFact, Span};
use crate::domain::SessionStatus;
use crate::error::AppResult;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionFigures {
    /// Sessions requested in the range, by their status now (every status
    /// present, zeros included).
    pub by_status: BTreeMap<String, i64>,
    /// What happened in each bucket (by the time it happened).
    pub series: SessionSeries,
    pub conversion: Conversion,
    /// Median hours from request to the researcher's answer, over answers
    /// given in the range; null without answers.
    pub median_answer_hours: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct SessionSeries {
    pub requested: Vec<i64>,
    pub accepted: Vec<i64>,
    pub declined: Vec<i64>,
    pub completed: Vec<i64>,
    pub cancelled: Vec<i64>,
    pub expired: Vec<i64>,
    pub no_show: Vec<i64>,
}

/// Of the sessions requested in the range: how many were ever accepted,
/// and how many completed. Rates are fractions (0 to 1), null for 0 / 0.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Conversion {
    pub requested: i64,
    pub accepted: i64,
    pub completed: i64,
    pub accepted_rate: Option<f64>,
    pub completed_rate: Option<f64>,
}

/// What the session figures are computed from.
pub(crate) struct Facts {
    events: Vec<EventFact>,
    requested: Vec<(i64, String)>,
    /// When sessions answered in the range but requested before it were
    /// requested.
    earlier: HashMap<i64, String>,
}

pub(crate) fn read(c: &Connection, span: &Span) -> AppResult<Facts> {
    let events = repo::session_events(c, span)?;
    let requested_here: HashSet<i64> = events
        .iter()
        .filter(|e| e.event == "requested")
        .map(|e| e.session_id)
        .collect();
    let missing: Vec<i64> = events
        .iter()
        .filter(|e| is_answer(&e.event) && !requested_here.contains(&e.session_id))
        .map(|e| e.session_id)
        .collect();
    Ok(Facts {
        requested: repo::requested(c, span)?,
        earlier: repo::requested_at(c, &missing)?.into_iter().collect(),
        events,
    })
}

fn is_answer(event: &str) -> bool {
    event == "accepted" || event == "declined"
}

fn hours_between(from: &str, to: &str) -> Option<f64> {
    let from = chrono::DateTime::parse_from_rfc3339(from).ok()?;
    let to = chrono::DateTime::parse_from_rfc3339(to).ok()?;
    Some((to - from).num_seconds() as f64 / 3600.0)
}

pub(crate) fn figures(b: &Buckets, f: &Facts) -> SessionFigures {
    let mut s = SessionSeries {
        requested: b.zeros(),
        accepted: b.zeros(),
        declined: b.zeros(),
        completed: b.zeros(),
        cancelled: b.zeros(),
        expired: b.zeros(),
        no_show: b.zeros(),
    };
    let mut requested_at: HashMap<i64, &str> = HashMap::new();
    let mut accepted_here: HashSet<i64> = HashSet::new();
    for e in &f.events {
        let target = match e.event.as_str() {
            "requested" => {
                requested_at.insert(e.session_id, &e.at);
                &mut s.requested
            }
            "accepted" => {
                accepted_here.insert(e.session_id);
                &mut s.accepted
            }
            "declined" => &mut s.declined,
            "completed" => &mut s.completed,
            "cancelled" => &mut s.cancelled,
            "expired" => &mut s.expired,
            "no_show" => &mut s.no_show,
            _ => continue,
        };
        series::add_at(b, target, &e.at, 1);
    }
    let hours: Vec<f64> = f
        .events
        .iter()
        .filter(|e| is_answer(&e.event))
        .filter_map(|e| {
            let asked = requested_at
                .get(&e.session_id)
                .copied()
                .or_else(|| f.earlier.get(&e.session_id).map(String::as_str))?;
            hours_between(asked, &e.at)
        })
        .collect();
    let mut by_status: BTreeMap<String, i64> = SessionStatus::ALL
        .iter()
        .map(|st| (st.as_str().to_string(), 0))
        .collect();
    let (mut accepted, mut completed) = (0, 0);
    for (id, status) in &f.requested {
        *by_status.entry(status.clone()).or_default() += 1;
        // Ever accepted: still running or past it, or cancelled after
        // being accepted (its acceptance is in the range: it came after
        // the request).
        match status.as_str() {
            "accepted" | "no_show" => accepted += 1,
            "completed" => {
                accepted += 1;
                completed += 1;
            }
            "cancelled" if accepted_here.contains(id) => accepted += 1,
            _ => {}
        }
    }
    let requested = f.requested.len() as i64;
    SessionFigures {
        by_status,
        series: s,
        conversion: Conversion {
            requested,
            accepted,
            completed,
            accepted_rate: rate(accepted, requested),
            completed_rate: rate(completed, requested),
        },
        median_answer_hours: median(hours),
    }
}
