//! Weekly rules and date exceptions as people and integrators write them,
//! and `Availability`, their checked form. Parsing is liberal where the
//! meaning is plain (`9:00`, `9`, `Mon`, `monday`) and reports every bad
//! item at once, in plain words; the API and the availability page share it.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A field-level problem: (field, message). Items of a list are named
/// `rules[0]`, `exceptions[2]` (0-based, as in the JSON body).
pub type FieldError = (String, String);

/// A weekly rule as integrators write it: `{weekday:"mon", start:"09:00", end:"12:00"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `mon` … `sun` (full names such as `Monday` too, any case).
    #[schema(value_type = crate::domain::api_schema::Weekday)]
    pub weekday: String,
    /// Local time `HH:MM` (`9:00` and `9` are read as `09:00`).
    pub start: String,
    /// Local time `HH:MM` (`24:00` for midnight at the end of the day).
    pub end: String,
}

/// A date that differs from the weekly rules: `block` takes time away (the
/// whole day without times), `extra` adds time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// `YYYY-MM-DD`, in the researcher's zone.
    pub date: String,
    /// `block` or `extra`.
    pub kind: String,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// Minutes after local midnight, `start < end <= 1440`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) start: i64,
    pub(crate) end: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ExceptionKind {
    Block(Option<Window>),
    Extra(Window),
}

/// Rules and exceptions, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    rules: Vec<(Weekday, Window)>,
    exceptions: Vec<(NaiveDate, ExceptionKind)>,
}

/// `mon`, `Mon`, `monday`, `MONDAY`: a weekday by its 3-letter or full name.
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

pub fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// A local time as minutes after midnight: `09:00`, `9:00` or `9`
/// (hours alone); `24:00` (or `24`) is the end of the day.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let (h, m) = s.split_once(':').unwrap_or((s, "00"));
    let digits = |p: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Minutes after midnight as `HH:MM`.
pub fn format_time(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn window(start: &str, end: &str, problems: &mut Vec<String>) -> Option<Window> {
    let s = parse_time(start);
    let e = parse_time(end);
    if s.is_none() {
        problems.push("the start must be a time like 09:00".into());
    }
    if e.is_none() {
        problems.push("the end must be a time like 12:00 (or 24:00)".into());
    }
    let (s, e) = (s?, e?);
    if e <= s {
        problems.push("the end must be after the start".into());
        return None;
    }
    Some(Window { start: s, end: e })
}

/// One item's problems as one message (`rules[3]`: "…; …").
fn item_problem(field: String, problems: Vec<String>) -> Option<FieldError> {
    (!problems.is_empty()).then(|| (field, problems.join("; ")))
}

fn parse_rule(r: &Rule) -> Result<(Weekday, Window), Vec<String>> {
    let mut problems = Vec::new();
    let day = parse_weekday(&r.weekday);
    if day.is_none() {
        problems.push("the day must be a weekday such as mon or Monday".into());
    }
    let w = window(&r.start, &r.end, &mut problems);
    match (day, w) {
        (Some(d), Some(w)) if problems.is_empty() => Ok((d, w)),
        _ => Err(problems),
    }
}

fn parse_exception(x: &Exception) -> Result<(NaiveDate, ExceptionKind), Vec<String>> {
    let mut problems = Vec::new();
    let date = NaiveDate::parse_from_str(x.date.trim(), "%Y-%m-%d").ok();
    if date.is_none() {
        problems.push("the date must be a real date written like 2026-12-24".into());
    }
    let times = match (&x.start, &x.end) {
        (Some(s), Some(e)) => window(s, e, &mut problems).map(Some),
        (None, None) => Some(None),
        _ => {
            problems.push("give both a start and an end, or neither".into());
            None
        }
    };
    let kind = match (x.kind.trim().to_ascii_lowercase().as_str(), times) {
        ("block", Some(t)) => Some(ExceptionKind::Block(t)),
        ("extra", Some(Some(w))) => Some(ExceptionKind::Extra(w)),
        ("extra", Some(None)) => {
            problems.push("extra time needs a start and an end".into());
            None
        }
        ("block" | "extra", None) => None,
        _ => {
            problems.push("the kind must be block or extra".into());
            None
        }
    };
    match (date, kind) {
        (Some(d), Some(k)) if problems.is_empty() => Ok((d, k)),
        _ => Err(problems),
    }
}

impl Availability {
    pub const MAX_RULES: usize = 100;
    pub const MAX_EXCEPTIONS: usize = 500;

    /// Checks every rule and exception; the error names every bad item.
    pub fn parse(rules: &[Rule], exceptions: &[Exception]) -> Result<Self, Vec<FieldError>> {
        if rules.len() > Self::MAX_RULES || exceptions.len() > Self::MAX_EXCEPTIONS {
            return Err(vec![(
                "rules".into(),
                format!(
                    "at most {} rules and {} exceptions",
                    Self::MAX_RULES,
                    Self::MAX_EXCEPTIONS
                ),
            )]);
        }
        let mut problems = Vec::new();
        let mut parsed_rules = Vec::with_capacity(rules.len());
        for (i, r) in rules.iter().enumerate() {
            match parse_rule(r) {
                Ok(rule) => parsed_rules.push(rule),
                Err(p) => problems.extend(item_problem(format!("rules[{i}]"), p)),
            }
        }
        let mut parsed_ex = Vec::with_capacity(exceptions.len());
        for (i, x) in exceptions.iter().enumerate() {
            match parse_exception(x) {
                Ok(ex) => parsed_ex.push(ex),
                Err(p) => problems.extend(item_problem(format!("exceptions[{i}]"), p)),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            rules: parsed_rules,
            exceptions: parsed_ex,
        })
    }

    /// Rules and extra times too short for a session of `shortest`
    /// minutes (after joining the windows of the same day that touch):
    /// allowed, but no one can book them, so the researcher is warned.
    pub fn too_short(&self, shortest: i64) -> Vec<FieldError> {
        let mut warnings = Vec::new();
        let message = |w: &Window, span: i64| {
            format!(
                "{}–{} is only {span} minutes, shorter than the shortest session ({shortest} minutes), so no one can book it",
                format_time(w.start),
                format_time(w.end)
            )
        };
        for (i, (day, w)) in self.rules.iter().enumerate() {
            let same_day: Vec<Window> = self
                .rules
                .iter()
                .filter(|(d, _)| d == day)
                .map(|(_, w)| *w)
                .collect();
            let span = joined_span(&same_day, *w);
            if span < shortest {
                warnings.push((format!("rules[{i}]"), message(w, span)));
            }
        }
        for (i, (_, kind)) in self.exceptions.iter().enumerate() {
            if let ExceptionKind::Extra(w) = kind {
                if w.end - w.start < shortest {
                    warnings.push((format!("exceptions[{i}]"), message(w, w.end - w.start)));
                }
            }
        }
        warnings
    }

    /// The free windows of one local date, merged and sorted (minutes).
    pub(crate) fn windows_on(&self, date: NaiveDate) -> Vec<Window> {
        let mut open: Vec<Window> = self
            .rules
            .iter()
            .filter(|(d, _)| *d == date.weekday())
            .map(|(_, w)| *w)
            .collect();
        let mut blocks = Vec::new();
        for (d, kind) in &self.exceptions {
            if *d != date {
                continue;
            }
            match kind {
                ExceptionKind::Extra(w) => open.push(*w),
                ExceptionKind::Block(None) => return Vec::new(),
                ExceptionKind::Block(Some(w)) => blocks.push(*w),
            }
        }
        let mut merged = merge(open);
        for b in blocks {
            merged = merged
                .into_iter()
                .flat_map(|w| {
                    let left = Window {
                        start: w.start,
                        end: w.end.min(b.start),
                    };
                    let right = Window {
                        start: w.start.max(b.end),
                        end: w.end,
                    };
                    [left, right].into_iter().filter(|p| p.end > p.start)
                })
                .collect();
        }
        merged
    }
}

/// Windows joined where they overlap or touch, sorted.
fn merge(mut open: Vec<Window>) -> Vec<Window> {
    open.sort_by_key(|w| w.start);
    let mut merged: Vec<Window> = Vec::new();
    for w in open {
        match merged.last_mut() {
            Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
            _ => merged.push(w),
        }
    }
    merged
}

/// The length of the joined window that holds `w`.
fn joined_span(same_day: &[Window], w: Window) -> i64 {
    merge(same_day.to_vec())
        .into_iter()
        .find(|m| m.start <= w.start && w.end <= m.end)
        .map_or(w.end - w.start, |m| m.end - m.start)
}
