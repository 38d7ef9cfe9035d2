//! Sessions in the admins' analytics: what happened per bucket, the
//! sessions requested in the range by status and how far they got, and
//! how long researchers took to answer. Read from the hourly rollups
//! (`hours`), so a year costs thousands of rows, not every event.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use super::buckets::Buckets;
use super::hours::HourPlan;
use super::{median, rate};
use crate::db::repos::analytics::{rollups, Span};
use crate::db::ts;
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

/// What happened per bucket, and the median answer time: the hourly
/// rollup, the raw events of hours it cannot answer, and the answers'
/// waits (one partial index range scan).
pub(crate) struct EventsPass {
    series: SessionSeries,
    median_answer_hours: Option<f64>,
}

/// Sessions requested in the range.
pub(crate) struct RequestsPass {
    by_status: BTreeMap<String, i64>,
    requested: i64,
    /// Accepted, completed or no-show, or cancelled after an acceptance.
    accepted: i64,
    completed: i64,
}

pub(crate) fn events(c: &Connection, b: &Buckets, plan: &HourPlan) -> AppResult<EventsPass> {
    let mut s = SessionSeries {
        requested: b.zeros(),
        accepted: b.zeros(),
        declined: b.zeros(),
        completed: b.zeros(),
        cancelled: b.zeros(),
        expired: b.zeros(),
        no_show: b.zeros(),
    };
    rollups::each_event_hour(c, &plan.rollup, |event, hour, n| {
        if !plan.counts(hour) {
            return;
        }
        if let (Some(series), Some(i)) = (target(&mut s, event), b.index_of_stored(hour)) {
            series[i] += n;
        }
    })?;
    for part in plan.raw() {
        rollups::each_session_event(c, part, |event, at| {
            if let (Some(series), Some(i)) = (target(&mut s, event), b.index_of_stored(at)) {
                series[i] += 1;
            }
        })?;
    }
    let whole = Span {
        start: ts(b.start()),
        end: ts(b.end()),
    };
    let hours = rollups::answer_secs(c, &whole)?
        .into_iter()
        .map(|secs| secs as f64 / 3600.0)
        .collect();
    Ok(EventsPass {
        series: s,
        median_answer_hours: median(hours),
    })
}

/// Sessions requested in the range, by status and how far they got.
pub(crate) fn requests(c: &Connection, plan: &HourPlan) -> AppResult<RequestsPass> {
    let mut p = RequestsPass {
        by_status: SessionStatus::ALL
            .iter()
            .map(|st| (st.as_str().to_string(), 0))
            .collect(),
        requested: 0,
        accepted: 0,
        completed: 0,
    };
    let mut counts = rollups::requests_by_status(c, &plan.rollup, true)?;
    for part in &plan.ends {
        counts.extend(rollups::requests_by_status(c, part, false)?);
    }
    for (status, ever_accepted, n) in counts {
        p.requested += n;
        if let Some(count) = p.by_status.get_mut(&status) {
            *count += n;
        }
        match status.as_str() {
            "accepted" | "no_show" => p.accepted += n,
            "completed" => {
                p.accepted += n;
                p.completed += n;
            }
            "cancelled" if ever_accepted => p.accepted += n,
            _ => {}
        }
    }
    Ok(p)
}

/// The session figures.
pub(crate) fn figures(e: EventsPass, r: RequestsPass) -> SessionFigures {
    SessionFigures {
        by_status: r.by_status,
        series: e.series,
        conversion: Conversion {
            requested: r.requested,
            accepted: r.accepted,
            completed: r.completed,
            accepted_rate: rate(r.accepted, r.requested),
            completed_rate: rate(r.completed, r.requested),
        },
        median_answer_hours: e.median_answer_hours,
    }
}
