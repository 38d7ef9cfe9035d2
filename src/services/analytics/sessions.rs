//! Sessions in the admins' analytics: what happened per bucket, the
//! sessions requested in the range by status and how far they got, and
//! how long researchers took to answer. Two index range scans (events and
//! requests in the range) and the rest in memory.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use super::buckets::Buckets;
use super::{median, rate};
use crate::db::repos::analytics::{self as repo, Span};
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

/// Seconds since the epoch of a stored time; the fixed width `db::ts`
/// writes is read by position (hundreds of thousands per answer), anything
/// else is parsed.
fn epoch(stored: &str) -> Option<i64> {
    let b = stored.as_bytes();
    let num = |from: usize, to: usize| -> Option<i64> {
        let mut n = 0i64;
        for &c in b.get(from..to)? {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(c - b'0');
        }
        Some(n)
    };
    let fast = (b.len() == 27 && b[26] == b'Z' && b[10] == b'T').then(|| {
        let date = chrono::NaiveDate::from_ymd_opt(
            num(0, 4)? as i32,
            num(5, 7)? as u32,
            num(8, 10)? as u32,
        )?;
        let days = date
            .signed_duration_since(chrono::NaiveDate::default())
            .num_days();
        Some(days * 86_400 + num(11, 13)? * 3600 + num(14, 16)? * 60 + num(17, 19)?)
    });
    fast.flatten().or_else(|| {
        chrono::DateTime::parse_from_rfc3339(stored)
            .ok()
            .map(|t| t.timestamp())
    })
}

fn target<'a>(s: &'a mut SessionSeries, event: &str) -> Option<&'a mut Vec<i64>> {
    Some(match event {
        "requested" => &mut s.requested,
        "accepted" => &mut s.accepted,
        "declined" => &mut s.declined,
        "completed" => &mut s.completed,
        "cancelled" => &mut s.cancelled,
        "expired" => &mut s.expired,
        // `no_show_reader` or `no_show_researcher`.
        e if e.starts_with("no_show") => &mut s.no_show,
        _ => return None,
    })
}

/// What the pass over the events gives.
pub(crate) struct EventsPass {
    series: SessionSeries,
    hours: Vec<f64>,
    accepted: HashSet<i64>,
}

/// What the pass over the requests gives.
pub(crate) struct RequestsPass {
    by_status: BTreeMap<String, i64>,
    requested: i64,
    /// Accepted, completed or no-show: accepted for sure.
    accepted: i64,
    completed: i64,
    /// Cancelled ones: accepted if an acceptance is among the events.
    cancelled: Vec<i64>,
}

/// One pass over the events in the range (and a lookup of when the few
/// sessions answered in the range but requested before it were
/// requested). Runs on its own reader connection, beside `requests`.
pub(crate) fn events(c: &Connection, b: &Buckets, span: &Span) -> AppResult<EventsPass> {
    let mut s = SessionSeries {
        requested: b.zeros(),
        accepted: b.zeros(),
        declined: b.zeros(),
        completed: b.zeros(),
        cancelled: b.zeros(),
        expired: b.zeros(),
        no_show: b.zeros(),
    };
    let mut requested_at: HashMap<i64, i64> = HashMap::new();
    let mut answers: Vec<(i64, i64)> = Vec::new();
    let mut accepted_here: HashSet<i64> = HashSet::new();
    repo::each_session_event(c, span, |event, at, id| {
        let Some(series) = target(&mut s, event) else {
            return;
        };
        if let Some(i) = b.index_of_stored(at) {
            series[i] += 1;
        }
        match event {
            "requested" => {
                if let Some(t) = epoch(at) {
                    requested_at.insert(id, t);
                }
            }
            "accepted" | "declined" => {
                if event == "accepted" {
                    accepted_here.insert(id);
                }
                if let Some(t) = epoch(at) {
                    answers.push((id, t));
                }
            }
            _ => {}
        }
    })?;
    let missing: Vec<i64> = answers
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !requested_at.contains_key(id))
        .collect();
    for (id, at) in repo::requested_at(c, &missing)? {
        if let Some(t) = epoch(&at) {
            requested_at.insert(id, t);
        }
    }
    let hours: Vec<f64> = answers
        .iter()
        .filter_map(|(id, t)| {
            requested_at
                .get(id)
                .map(|asked| (t - asked) as f64 / 3600.0)
        })
        .collect();
    Ok(EventsPass {
        series: s,
        hours,
        accepted: accepted_here,
    })
}

/// One pass over the sessions requested in the range.
pub(crate) fn requests(c: &Connection, span: &Span) -> AppResult<RequestsPass> {
    let mut p = RequestsPass {
        by_status: SessionStatus::ALL
            .iter()
            .map(|st| (st.as_str().to_string(), 0))
            .collect(),
        requested: 0,
        accepted: 0,
        completed: 0,
        cancelled: Vec::new(),
    };
    repo::each_requested(c, span, |id, status| {
        p.requested += 1;
        if let Some(n) = p.by_status.get_mut(status) {
            *n += 1;
        }
        match status {
            "accepted" | "no_show" => p.accepted += 1,
            "completed" => {
                p.accepted += 1;
                p.completed += 1;
            }
            "cancelled" => p.cancelled.push(id),
            _ => {}
        }
    })?;
    Ok(p)
}

/// The session figures. A cancelled session counts as ever accepted when
/// its acceptance is among the range's events (it came after the
/// request, so it is, unless it came after the range).
pub(crate) fn figures(e: EventsPass, r: RequestsPass) -> SessionFigures {
    let accepted = r.accepted
        + r.cancelled
            .iter()
            .filter(|id| e.accepted.contains(id))
            .count() as i64;
    SessionFigures {
        by_status: r.by_status,
        series: e.series,
        conversion: Conversion {
            requested: r.requested,
            accepted,
            completed: r.completed,
            accepted_rate: rate(accepted, r.requested),
            completed_rate: rate(r.completed, r.requested),
        },
        median_answer_hours: median(e.hours),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stored_times_are_read_by_position_and_others_parsed() {
        let t = super::epoch("2026-03-29T21:30:00.000000Z").unwrap();
        assert_eq!(
            t,
            chrono::DateTime::parse_from_rfc3339("2026-03-29T21:30:00Z")
                .unwrap()
                .timestamp()
        );
        assert_eq!(super::epoch("2026-03-29T23:30:00+02:00"), Some(t));
        assert_eq!(super::epoch("2026-13-29T21:30:00.000000Z"), None);
    }
}
