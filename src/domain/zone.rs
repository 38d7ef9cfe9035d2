//! Time zones: the zone a person picked, and an instant as that person
//! reads it. Every time a page, an e-mail or a calendar description shows
//! is formatted here, so each one carries its zone and no two places spell
//! times differently.

use chrono::{DateTime, Utc};
pub use chrono_tz::Tz;

/// The zone of an account that did not pick one.
pub const DEFAULT: Tz = Tz::UTC;

/// Every zone, in the order the pickers list them.
pub fn all() -> &'static [Tz] {
    &chrono_tz::TZ_VARIANTS
}

/// A zone picked from the list, by its IANA name.
pub fn parse(s: &str) -> Result<Tz, String> {
    super::availability::parse_timezone(s)
}

/// The zone a registration asked for: its IANA name, or `DEFAULT` when
/// left out or blank.
pub fn parse_or_default(s: Option<&str>) -> Result<Tz, String> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => parse(name),
        None => Ok(DEFAULT),
    }
}

/// The first of `names` that is a zone (stored names, most specific
/// first), else `fallback`.
pub fn first_of<'a>(names: impl IntoIterator<Item = Option<&'a str>>, fallback: Tz) -> Tz {
    names
        .into_iter()
        .flatten()
        .find_map(|n| n.trim().parse().ok())
        .unwrap_or(fallback)
}

/// What follows a clock time so it names its zone: the abbreviation in
/// force at `t` ("CET", "PDT", "UTC"), or the zone's name in brackets
/// where the zone has no lettered abbreviation ("(Asia/Dubai)", not "+04").
pub fn suffix(t: DateTime<Utc>, tz: Tz) -> String {
    let abbr = t.with_timezone(&tz).format("%Z").to_string();
    if abbr.chars().all(|c| c.is_ascii_alphabetic()) && !abbr.is_empty() {
        abbr
    } else {
        format!("({})", tz.name())
    }
}

/// A moment as people read it: "Mon 7 December 2026, 18:00 CET".
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    format!(
        "{} {}",
        t.with_timezone(&tz).format("%a %-d %B %Y, %H:%M"),
        suffix(t, tz)
    )
}

/// `local` with the zone's name as well, where one time stands alone:
/// "Mon 7 December 2026, 18:00 CET (Europe/Berlin)".
pub fn local_named(t: DateTime<Utc>, tz: Tz) -> String {
    named(local(t, tz), t, tz)
}

/// A meeting from start to end: "Mon 7 December 2026, 18:00–19:00 CET".
pub fn span(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    format!(
        "{}–{} {}",
        start.with_timezone(&tz).format("%a %-d %B %Y, %H:%M"),
        end.with_timezone(&tz).format("%H:%M"),
        suffix(start, tz)
    )
}

/// `span` with the zone's name as well.
pub fn span_named(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    named(span(start, end, tz), start, tz)
}

/// Clock times only, under a day heading: "18:00–19:00 CET".
pub fn hours(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    format!(
        "{}–{} {}",
        start.with_timezone(&tz).format("%H:%M"),
        end.with_timezone(&tz).format("%H:%M"),
        suffix(start, tz)
    )
}

/// A day heading: "Monday 7 December".
pub fn day(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%A %-d %B").to_string()
}

/// The calendar date in the zone, for subjects: "7 December 2026".
pub fn date(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%-d %B %Y").to_string()
}

/// A UTC time for a file name, sortable and without separators a shell
/// or a file system minds: `20261206T020315Z`.
pub fn file_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Compact, for tables: "2026-12-07 18:00 CET".
pub fn short(t: DateTime<Utc>, tz: Tz) -> String {
    format!(
        "{} {}",
        t.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        suffix(t, tz)
    )
}

/// Adds the zone's name unless the suffix already is it.
fn named(text: String, t: DateTime<Utc>, tz: Tz) -> String {
    if suffix(t, tz).starts_with('(') {
        text
    } else {
        format!("{text} ({})", tz.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn a_time_carries_the_abbreviation_in_force_then() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            local(at(2026, 12, 7, 17, 0), berlin),
            "Mon 7 December 2026, 18:00 CET"
        );
        assert_eq!(
            local(at(2026, 7, 6, 16, 0), berlin),
            "Mon 6 July 2026, 18:00 CEST"
        );
        assert_eq!(
            local_named(at(2026, 12, 7, 17, 0), berlin),
            "Mon 7 December 2026, 18:00 CET (Europe/Berlin)"
        );
        assert_eq!(
            local(at(2026, 12, 7, 17, 0), DEFAULT),
            "Mon 7 December 2026, 17:00 UTC"
        );
    }

    #[test]
    fn a_zone_without_a_lettered_abbreviation_is_named() {
        let dubai: Tz = "Asia/Dubai".parse().unwrap();
        let t = at(2026, 12, 7, 14, 0);
        assert_eq!(local(t, dubai), "Mon 7 December 2026, 18:00 (Asia/Dubai)");
        assert_eq!(local_named(t, dubai), local(t, dubai));
        assert_eq!(
            hours(t, at(2026, 12, 7, 15, 0), dubai),
            "18:00–19:00 (Asia/Dubai)"
        );
    }

    #[test]
    fn spans_days_and_tables_use_the_same_zone() {
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        let (s, e) = (at(2026, 12, 8, 2, 0), at(2026, 12, 8, 3, 0));
        assert_eq!(span(s, e, la), "Mon 7 December 2026, 18:00–19:00 PST");
        assert_eq!(
            span_named(s, e, la),
            "Mon 7 December 2026, 18:00–19:00 PST (America/Los_Angeles)"
        );
        assert_eq!(day(s, la), "Monday 7 December");
        assert_eq!(date(s, la), "7 December 2026");
        assert_eq!(short(s, la), "2026-12-07 18:00 PST");
    }

    #[test]
    fn a_registration_zone_defaults_to_utc_and_refuses_free_text() {
        assert_eq!(parse_or_default(None), Ok(DEFAULT));
        assert_eq!(parse_or_default(Some("  ")), Ok(DEFAULT));
        assert_eq!(
            parse_or_default(Some("Europe/Berlin")).map(|z| z.name()),
            Ok("Europe/Berlin")
        );
        assert!(parse_or_default(Some("Berlin time")).is_err());
        assert_eq!(
            first_of([None, Some("nonsense"), Some("Asia/Tokyo")], DEFAULT).name(),
            "Asia/Tokyo"
        );
        assert_eq!(first_of([None], DEFAULT), DEFAULT);
    }
}
