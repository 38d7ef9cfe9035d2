//! Rules the API enforces, stated in the OpenAPI document so that clients
//! (and the fuzzer) see them, not only the prose: the values a field may
//! take where a plain `string` or `boolean` would say too little. Used
//! with `#[schema(value_type = …)]`; each appears once under
//! `components/schemas` and is referenced from every field that uses it.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// A schema under its own name in `components/schemas`: a unit struct to
/// name in `#[schema(value_type = …)]`, and the schema it stands for.
macro_rules! named_schema {
    ($(#[$meta:meta])* $name:ident, $schema:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

/// A string of this pattern, described.
fn text(pattern: &str, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
}

/// A string with a fixed set of values, described.
fn one_of(values: Vec<String>, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
}

fn zone_names() -> impl Iterator<Item = String> {
    chrono_tz::TZ_VARIANTS.iter().map(|z| z.name().to_string())
}

named_schema!(
    /// An IANA time-zone name such as `Europe/Berlin`: every zone the
    /// server knows (`chrono-tz`'s list), as an enum.
    TimeZoneName,
    one_of(zone_names().collect(), "An IANA time-zone name such as `Europe/Berlin`.")
);

named_schema!(
    /// `true`: the only value accepted (`accept_terms`).
    MustBeTrue,
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .description(Some("Must be `true`."))
        .enum_values(Some([true]))
);

/// What `availability_rules` reads as a weekday (any case is accepted;
/// these are the documented spellings).
pub const WEEKDAYS: [&str; 14] = [
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

named_schema!(
    /// A weekday as availability rules take it.
    Weekday,
    one_of(strings(&WEEKDAYS), "`mon` … `sun`, or the full English name (any case).")
);

named_schema!(
    /// Required free text on one line (`text::line`): a visible character,
    /// no control characters.
    TextLine,
    text(super::text::LINE_PATTERN, "Text with a visible character and no control characters.")
);

named_schema!(
    /// Required free text over lines (`text::block`).
    TextBlock,
    text(
        super::text::BLOCK_PATTERN,
        "Text with a visible character; line breaks and tabs, but no other control characters.",
    )
);

named_schema!(
    /// Pasted text (`text::stripped_block`): control characters are
    /// dropped, and what is left needs a visible character.
    VisibleText,
    text(
        r"[^\s\u0000-\u001F\u007F-\u009F]",
        "Text with a visible character; control characters are dropped.",
    )
);

named_schema!(
    /// Optional free text over lines: empty, or as `TextBlock`.
    OptionalTextBlock,
    text(
        r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        "Line breaks and tabs, but no other control characters.",
    )
);

named_schema!(
    /// A session length a researcher may offer: 15 to 480 minutes, in
    /// steps of 5.
    SessionLength,
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .description(Some("Minutes: 15 to 480, in steps of 5."))
        .minimum(Some(15))
        .maximum(Some(super::availability::MAX_SESSION_MINUTES))
        .multiple_of(Some(5))
);

/// What `Email::parse` takes, as a pattern (ASCII letters only where it
/// also takes any Unicode letter or digit): a local part, `@`, a dotted
/// domain.
pub const EMAIL_PATTERN: &str =
    r"^\s*[A-Za-z0-9!#$%&*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\s*$";

named_schema!(
    /// An e-mail address as the server reads it. No `format: email`: the
    /// server trims surrounding white space, which that format refuses.
    EmailAddress,
    text(EMAIL_PATTERN, "An e-mail address (surrounding white space is trimmed).")
);

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

named_schema!(
    /// The disputes list's `status` filter.
    DisputeFilter,
    one_of(
        ["", "active"]
        .into_iter()
        .map(str::to_string)
        .chain(super::status::DisputeStatus::ALL.iter().map(|s| s.as_str().to_string()))
        .collect(),
        "`active` (every dispute not yet resolved or withdrawn), one status, or empty for all.",
    )
);

named_schema!(
    /// The review queue's `status` filter.
    ReviewFilter,
    one_of(
        super::status::ReviewStatus::ALL
        .iter()
        .map(|s| s.as_str().to_string())
        .chain(std::iter::once("all".to_string()))
        .collect(),
        "One review status, or `all`.",
    )
);

named_schema!(
    /// How a paper's researchers are ordered.
    ResearcherSort,
    one_of(
        strings(&["authors", "rating"]),
        "`authors` (the paper's order, the default) or `rating`.",
    )
);

named_schema!(
    /// A participant named in a no-show report.
    NoShowParty,
    one_of(
        strings(&["reader", "researcher"]),
        "`reader` or `researcher`.",
    )
);

named_schema!(
    /// An analytics bucket.
    BucketName,
    one_of(
        strings(&["", "day", "week", "month"]),
        "`day`, `week` or `month`; empty for the default, `week`.",
    )
);

named_schema!(
    /// A time zone, or empty to clear the account's.
    TimeZoneOrEmpty,
    one_of(
        std::iter::once(String::new()).chain(zone_names()).collect(),
        "An IANA time-zone name such as `Europe/Berlin`, or empty to clear it.",
    )
);

named_schema!(
    /// What `GET /api/v1/exports/{dataset}` exports.
    ExportDataset,
    one_of(
        strings(&["sessions", "payments", "invoices", "reviews", "researchers", "users", "analytics"]),
        "sessions, payments, invoices, reviews, researchers, users or analytics.",
    )
);

named_schema!(
    /// The ledger's `kind` filter.
    LedgerKind,
    one_of(
        strings(&["authorization", "release", "capture", "refund", "subscription_charge", "dispute", "payment_failed"]),
        "One kind of ledger row.",
    )
);

named_schema!(
    /// An export's file format.
    ExportFormat,
    one_of(
        strings(&["csv", "json"]),
        "`csv` (the default) or `json` (one JSON object a line).",
    )
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented patterns accept exactly what `text::line` and
    /// `text::block` accept (the regex crate reads `\uXXXX` as ECMA does).
    #[test]
    fn the_text_patterns_match_the_text_checks() {
        let line = regex::Regex::new(crate::domain::text::LINE_PATTERN).unwrap();
        let block = regex::Regex::new(crate::domain::text::BLOCK_PATTERN).unwrap();
        for s in [
            "a",
            " a ",
            "Grace Hopper",
            "é",
            "",
            " ",
            "\t",
            "a\nb",
            "a\u{0}b",
            "a\u{7}",
            "\u{85}",
            "a\u{9f}",
            "\n\n",
            "x\ty",
            "\u{a0}",
            "\u{2003}b",
        ] {
            assert_eq!(
                line.is_match(s),
                crate::domain::text::line(s, 1000).is_ok(),
                "line {s:?}"
            );
            assert_eq!(
                block.is_match(s),
                crate::domain::text::block(s, 1000).is_ok(),
                "block {s:?}"
            );
        }
    }

    #[test]
    fn the_email_pattern_takes_only_what_email_parse_takes() {
        let re = regex::Regex::new(EMAIL_PATTERN).unwrap();
        for s in [
            "a@b.co",
            " Ada@Uni.Example ",
            "a b@c.de",
            "@b.co",
            "a@b",
            "a@.b.co",
            "a@b..co",
            "a@b.co.",
            "x\u{0}@b.co",
            "o'neil@b.co",
            "a+tag@sub.uni.example",
            "a@b_c.de",
        ] {
            if re.is_match(s) {
                assert!(crate::domain::email::Email::parse(s).is_ok(), "{s:?}");
            }
        }
        assert!(re.is_match("ada@uni.example"));
    }

    #[test]
    fn every_documented_zone_parses_and_every_weekday_is_read() {
        for z in chrono_tz::TZ_VARIANTS {
            assert!(crate::domain::availability::parse_timezone(z.name()).is_ok());
        }
        for d in WEEKDAYS {
            assert!(
                crate::domain::availability_rules::parse_weekday(d).is_some(),
                "{d}"
            );
        }
    }
}
