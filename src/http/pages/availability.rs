//! The researcher's availability editor and booking settings (the
//! researcher or an admin). Rules and exceptions are edited as lines of
//! text, one per line, so the page works without JavaScript.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::PageForm;
use super::zones::ZoneField;
use super::PageError;
use crate::domain::availability::{Availability, Exception, Rule};
use crate::domain::ResearcherId;
use crate::error::AppError;
use crate::http::extractors::AppPath;
use crate::services::accounts::Principal;
use crate::services::researchers;
use crate::services::sessions::settings::{self, AvailabilityBody, SettingsBody};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/availability.html")]
pub struct AvailabilityPage {
    pub layout: Layout,
    pub id: ResearcherId,
    pub name: String,
    pub f: EditForm,
    pub zone_field: ZoneField,
    pub error: Option<String>,
}

/// The form, as shown and as submitted.
#[derive(Deserialize, Default)]
pub struct EditForm {
    #[serde(default)]
    pub csrf_token: String,
    pub timezone: String,
    pub durations: String,
    /// e.g. "40.00"; empty or 0 means free.
    pub price: String,
    pub currency: String,
    pub min_notice_hours: String,
    pub buffer_minutes: String,
    pub max_per_day: String,
    pub horizon_days: String,
    pub request_ttl_hours: String,
    pub cancel_window_hours: String,
    pub rules: String,
    pub exceptions: String,
}

fn rules_text(rules: &[Rule]) -> String {
    rules
        .iter()
        .map(|r| format!("{} {}-{}", r.weekday, r.start, r.end))
        .collect::<Vec<_>>()
        .join("\n")
}

fn exceptions_text(xs: &[Exception]) -> String {
    xs.iter()
        .map(|x| match (&x.start, &x.end) {
            (Some(s), Some(e)) => format!("{} {} {s}-{e}", x.date, x.kind),
            _ => format!("{} {}", x.date, x.kind),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn span(s: &str) -> (Option<String>, Option<String>) {
    match s.split_once('-') {
        Some((a, b)) => (Some(a.trim().to_string()), Some(b.trim().to_string())),
        None => (Some(s.to_string()), None),
    }
}

/// `mon 09:00-12:00` per line.
fn parse_rules(text: &str) -> Result<Vec<Rule>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().map(str::trim).enumerate() {
        if line.is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "Line {} of the weekly times should look like `mon 09:00-12:00`.",
                n + 1
            )
        };
        let (day, times) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
        let (Some(start), Some(end)) = span(times.trim()) else {
            return Err(bad());
        };
        out.push(Rule {
            weekday: day.to_string(),
            start,
            end,
        });
    }
    Ok(out)
}

/// `2026-12-24 block`, `2026-12-24 block 13:00-17:00` or
/// `2026-12-27 extra 10:00-12:00` per line.
fn parse_exceptions(text: &str) -> Result<Vec<Exception>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().map(str::trim).enumerate() {
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (start, end) = match parts.get(2) {
            Some(t) => span(t),
            None => (None, None),
        };
        if parts.len() < 2 || parts.len() > 3 {
            return Err(format!(
                "Line {} of the exceptions should look like `2026-12-24 block` or `2026-12-27 extra 10:00-12:00`.",
                n + 1
            ));
        }
        out.push(Exception {
            date: parts[0].to_string(),
            kind: parts[1].to_string(),
            start,
            end,
        });
    }
    Ok(out)
}

fn number(field: &str, raw: &str) -> Result<i64, String> {
    raw.trim()
        .parse()
        .map_err(|_| format!("{field} must be a whole number."))
}

/// "40.00" → 4000 minor units.
fn price_minor(raw: &str) -> Result<i64, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(0);
    }
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, "0"));
    let frac = format!("{frac:0<2}");
    match (
        whole.parse::<i64>(),
        frac.get(..2).map(str::parse::<i64>),
        frac.len(),
    ) {
        (Ok(w), Some(Ok(f)), 2) if w >= 0 => Ok(w * 100 + f),
        _ => Err("The price must be an amount like 40 or 40.50.".into()),
    }
}

impl EditForm {
    fn from_saved(s: &SettingsBody, a: &AvailabilityBody) -> Self {
        Self {
            csrf_token: String::new(),
            timezone: s.timezone.clone(),
            durations: s
                .durations
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            price: format!("{}.{:02}", s.price_minor / 100, s.price_minor % 100),
            currency: s.currency.clone(),
            min_notice_hours: s.min_notice_hours.to_string(),
            buffer_minutes: s.buffer_minutes.to_string(),
            max_per_day: s.max_per_day.to_string(),
            horizon_days: s.horizon_days.to_string(),
            request_ttl_hours: s.request_ttl_hours.to_string(),
            cancel_window_hours: s.cancel_window_hours.to_string(),
            rules: rules_text(&a.rules),
            exceptions: exceptions_text(&a.exceptions),
        }
    }

    fn parse(&self) -> Result<(SettingsBody, AvailabilityBody), String> {
        let durations = self
            .durations
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| number("Each session length", d))
            .collect::<Result<Vec<_>, _>>()?;
        let settings = SettingsBody {
            timezone: self.timezone.trim().to_string(),
            durations,
            price_minor: price_minor(&self.price)?,
            currency: self.currency.trim().to_uppercase(),
            min_notice_hours: number("Minimum notice", &self.min_notice_hours)?,
            buffer_minutes: number("The buffer", &self.buffer_minutes)?,
            max_per_day: number("Sessions per day", &self.max_per_day)?,
            horizon_days: number("The booking horizon", &self.horizon_days)?,
            request_ttl_hours: number("The answer time", &self.request_ttl_hours)?,
            cancel_window_hours: number("The cancellation window", &self.cancel_window_hours)?,
        };
        let availability = AvailabilityBody {
            timezone: settings.timezone.clone(),
            rules: parse_rules(&self.rules)?,
            exceptions: parse_exceptions(&self.exceptions)?,
        };
        settings.check().map_err(|(f, m)| format!("{f}: {m}"))?;
        Availability::parse(&availability.rules, &availability.exceptions)
            .map_err(|(f, m)| format!("{f}: {m}"))?;
        Ok((settings, availability))
    }
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    who: &Principal,
    id: ResearcherId,
    f: EditForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    let r = researchers::get(state, Some(who), id).await?;
    Ok(render(&AvailabilityPage {
        layout: viewer.layout(format!("Availability of {}", r.name)),
        id,
        name: r.name,
        zone_field: ZoneField::new("Your time zone", f.timezone.trim()),
        f,
        error,
    }))
}

/// `Forbidden` unless the viewer is the researcher or an admin.
async fn manager(
    state: &AppState,
    viewer: &Viewer,
    id: ResearcherId,
) -> Result<Principal, PageError> {
    let who = viewer.require(&format!("/researchers/{id}/availability"))?;
    let owner = settings::booking_info(state, id).await?.owner;
    if who.is_admin() || owner == Some(who.user_id) {
        Ok(who)
    } else {
        Err(AppError::Forbidden.into())
    }
}

pub async fn availability_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ResearcherId>,
) -> Result<Response, PageError> {
    let who = manager(&state, &viewer, id).await?;
    let s = settings::get_settings(&state, id).await?;
    let a = settings::get_availability(&state, id).await?;
    page(
        &state,
        &viewer,
        &who,
        id,
        EditForm::from_saved(&s, &a),
        None,
    )
    .await
}

pub async fn availability_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ResearcherId>,
    PageForm(f): PageForm<EditForm>,
) -> Result<Response, PageError> {
    let who = manager(&state, &viewer, id).await?;
    viewer.check_csrf(&f.csrf_token)?;
    let (s, a) = match f.parse() {
        Ok(parsed) => parsed,
        Err(msg) => return page(&state, &viewer, &who, id, f, Some(msg)).await,
    };
    settings::put_settings(&state, &who, id, s).await?;
    settings::put_availability(&state, &who, id, a).await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/researchers/{id}"),
        "success",
        "Saved. Readers now see these times.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_and_exception_lines_round_trip() {
        let rules = parse_rules("mon 09:00-12:00\n\n tue 14:00-17:30 ").unwrap();
        assert_eq!(rules_text(&rules), "mon 09:00-12:00\ntue 14:00-17:30");
        let xs = parse_exceptions("2026-12-24 block\n2026-12-27 extra 10:00-12:00").unwrap();
        assert_eq!(
            exceptions_text(&xs),
            "2026-12-24 block\n2026-12-27 extra 10:00-12:00"
        );
        assert!(parse_rules("monday").is_err());
        assert!(parse_exceptions("2026-12-24").is_err());
    }

    #[test]
    fn prices_are_read_in_minor_units() {
        assert_eq!(price_minor("40").unwrap(), 4000);
        assert_eq!(price_minor("40.5").unwrap(), 4050);
        assert_eq!(price_minor("0.99").unwrap(), 99);
        assert_eq!(price_minor("").unwrap(), 0);
        assert!(price_minor("4,00").is_err());
        assert!(price_minor("-3").is_err());
        assert!(price_minor("1.234").is_err());
    }
}
