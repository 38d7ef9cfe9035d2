//! The researcher's availability editor and booking settings (the
//! researcher or an admin). Rules and exceptions are edited as lines of
//! text, one per line, so the page works without JavaScript.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::availability_lines::{exceptions_text, parse_exceptions, parse_rules, rules_text};
use super::context::{redirect_with_flash, render, Flash, Layout, Viewer};
use super::form::PageForm;
use super::form_errors::{FormErrors, Labels};
use super::zones::ZoneField;
use super::PageError;
use crate::domain::money::{self, parse_major, Currency};
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
    pub errors: FormErrors,
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

/// A whole number from a form field, or its problem next to the field.
fn number(errors: &mut FormErrors, field: &str, label: &str, raw: &str) -> Option<i64> {
    match raw.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(field, format!("{label} must be a whole number."));
            None
        }
    }
}

/// The price typed in major units of the form's currency ("40", "40.50";
/// "4760" yen, "1.500" dinars) as minor units; empty is free. With a
/// currency that is not a code the price waits (as free) until the
/// currency field, which says so, is right.
fn price_minor(raw: &str, currency: &str) -> Result<i64, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(0);
    }
    let Ok(currency) = Currency::parse(&currency.trim().to_uppercase()) else {
        return Ok(0);
    };
    parse_major(raw, currency).map_err(|m| format!("The price {m}."))
}

/// How the page names the fields the services complain about.
const LABELS: Labels = &[
    ("timezone", "The time zone"),
    ("durations", "Lengths offered"),
    ("price_minor>price", "The price"),
    ("currency", "The currency"),
    ("min_notice_hours", "The minimum notice"),
    ("buffer_minutes", "The buffer"),
    ("max_per_day", "Sessions per day"),
    ("horizon_days", "The booking horizon"),
    ("request_ttl_hours", "The answer time"),
    ("cancel_window_hours", "The cancellation window"),
    ("rules", "Weekly times"),
    ("exceptions", "Exceptions"),
];

/// What the form says, checked in full.
struct Parsed {
    settings: SettingsBody,
    availability: AvailabilityBody,
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
            price: money::decimal(s.price_minor, &s.currency),
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

    /// Reads and checks every field, collecting every problem; a field
    /// that could not be read is checked as a harmless stand-in, so the
    /// others are still checked.
    fn parse(&self, errors: &mut FormErrors) -> Result<Option<Parsed>, PageError> {
        let mut durations = Vec::new();
        for d in self
            .durations
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            durations.extend(number(errors, "durations", "Each session length", d));
        }
        let price = price_minor(&self.price, &self.currency)
            .map_err(|m| errors.add("price", m))
            .ok();
        let mut n = |field: &str, label: &str, raw: &str| number(errors, field, label, raw);
        let settings = SettingsBody {
            timezone: self.timezone.trim().to_string(),
            durations: if durations.is_empty() && !self.durations.trim().is_empty() {
                vec![30]
            } else {
                durations
            },
            price_minor: price.unwrap_or(0),
            currency: self.currency.trim().to_uppercase(),
            min_notice_hours: n(
                "min_notice_hours",
                "The minimum notice",
                &self.min_notice_hours,
            )
            .unwrap_or(0),
            buffer_minutes: n("buffer_minutes", "The buffer", &self.buffer_minutes).unwrap_or(0),
            max_per_day: n("max_per_day", "Sessions per day", &self.max_per_day).unwrap_or(1),
            horizon_days: n("horizon_days", "The booking horizon", &self.horizon_days).unwrap_or(1),
            request_ttl_hours: n(
                "request_ttl_hours",
                "The answer time",
                &self.request_ttl_hours,
            )
            .unwrap_or(1),
            cancel_window_hours: n(
                "cancel_window_hours",
                "The cancellation window",
                &self.cancel_window_hours,
            )
            .unwrap_or(0),
        };
        let rules = parse_rules(&self.rules, errors);
        let exceptions = parse_exceptions(&self.exceptions, errors);
        errors.lines("rules", rules.numbers);
        errors.lines("exceptions", exceptions.numbers);
        let availability = AvailabilityBody {
            timezone: settings.timezone.clone(),
            rules: rules.items,
            exceptions: exceptions.items,
        };
        // Fields that could not be read were checked as valid stand-ins,
        // so what the checks below say is about the other fields.
        if let Err(e) = settings::check(&settings) {
            errors.absorb(e, LABELS)?;
        }
        if let Err(e) = settings::check_availability(&availability) {
            errors.absorb(e, LABELS)?;
        }
        Ok((!errors.failed()).then_some(Parsed {
            settings,
            availability,
        }))
    }
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    who: &Principal,
    id: ResearcherId,
    f: EditForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let r = researchers::get(state, Some(who), id).await?;
    let mut layout = viewer.layout(format!("Availability of {}", r.name));
    let saved = !errors.failed() && errors.has_warnings();
    if saved {
        layout.flash = Some(Flash {
            kind: "success".into(),
            message: "Saved. Readers now see these times; see the notes below.".into(),
            link: None,
        });
    }
    let page = AvailabilityPage {
        layout,
        id,
        name: r.name,
        zone_field: ZoneField::new("Your time zone", f.timezone.trim()).with_errors(&errors),
        f,
        errors,
    };
    Ok(if page.errors.failed() {
        page.errors.respond(&page)
    } else {
        render(&page)
    })
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
    let f = EditForm::from_saved(&s, &a);
    page(&state, &viewer, &who, id, f, FormErrors::default()).await
}

/// Saves settings and times, or shows the form again with every problem.
/// Windows too short for any session are saved, and the form comes back
/// with a note next to each.
pub async fn availability_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ResearcherId>,
    PageForm(f): PageForm<EditForm>,
) -> Result<Response, PageError> {
    let who = manager(&state, &viewer, id).await?;
    viewer.check_csrf(&f.csrf_token)?;
    let mut errors = FormErrors::default();
    let Some(parsed) = f.parse(&mut errors)? else {
        return page(&state, &viewer, &who, id, f, errors).await;
    };
    let saved = async {
        settings::put_settings(&state, &who, id, parsed.settings).await?;
        settings::put_availability(&state, &who, id, parsed.availability).await
    }
    .await;
    let published = match saved {
        Ok(p) => p,
        Err(e) => {
            errors.absorb(e, LABELS)?;
            return page(&state, &viewer, &who, id, f, errors).await;
        }
    };
    for w in published.warnings {
        errors.warn_at(&w.field, &w.message, LABELS);
    }
    if errors.has_warnings() {
        return page(&state, &viewer, &who, id, f, errors).await;
    }
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
    fn prices_are_read_with_the_currencys_decimals() {
        assert_eq!(price_minor("40", "EUR").unwrap(), 4000);
        assert_eq!(price_minor("40.5", "eur").unwrap(), 4050);
        assert_eq!(price_minor("0.99", "EUR").unwrap(), 99);
        assert_eq!(price_minor("", "EUR").unwrap(), 0);
        assert_eq!(price_minor("4760", "JPY").unwrap(), 4760);
        assert_eq!(price_minor("1.5", "KWD").unwrap(), 1500);
        assert!(price_minor("-3", "EUR").is_err());
        assert!(price_minor("1.234", "EUR").is_err());
        assert_eq!(
            price_minor("47.60", "JPY").unwrap_err(),
            "The price must be an amount in JPY such as 15."
        );
        // The currency field reports a bad code; the price waits for it.
        assert_eq!(price_minor("40", "EURO").unwrap(), 0);
    }
}
