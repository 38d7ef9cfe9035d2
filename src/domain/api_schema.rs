//! Rules the API enforces, stated in the OpenAPI document so that clients
//! (and the fuzzer) see them, not only the prose: the values a field may
//! take where a plain `string` or `boolean` would say too little. Used
//! with `#[schema(value_type = …)]`; each appears once under
//! `components/schemas` and is referenced from every field that uses it.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// An IANA time-zone name such as `Europe/Berlin`: every zone the server
/// knows (`chrono-tz`'s list), as an enum.
pub struct TimeZoneName;

impl PartialSchema for TimeZoneName {
    fn schema() -> RefOr<Schema> {
        let names: Vec<&'static str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An IANA time-zone name such as `Europe/Berlin`."))
            .enum_values(Some(names))
            .into()
    }
}

impl ToSchema for TimeZoneName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TimeZoneName")
    }
}

/// `true`: the only value accepted (`accept_terms`).
pub struct MustBeTrue;

impl PartialSchema for MustBeTrue {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Boolean)
            .description(Some("Must be `true`."))
            .enum_values(Some([true]))
            .into()
    }
}

impl ToSchema for MustBeTrue {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("MustBeTrue")
    }
}

/// A weekday as availability rules take it.
pub struct Weekday;

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

impl PartialSchema for Weekday {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("`mon` … `sun`, or the full English name (any case)."))
            .enum_values(Some(WEEKDAYS))
            .into()
    }
}

impl ToSchema for Weekday {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Weekday")
    }
}

/// Required free text on one line (`text::line`): a visible character,
/// no control characters.
pub struct TextLine;

impl PartialSchema for TextLine {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Text with a visible character and no control characters.",
            ))
            .pattern(Some(super::text::LINE_PATTERN))
            .into()
    }
}

impl ToSchema for TextLine {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TextLine")
    }
}

/// Required free text over lines (`text::block`).
pub struct TextBlock;

impl PartialSchema for TextBlock {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Text with a visible character; line breaks and tabs, but no other control characters.",
            ))
            .pattern(Some(super::text::BLOCK_PATTERN))
            .into()
    }
}

impl ToSchema for TextBlock {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TextBlock")
    }
}

/// A session length a researcher may offer: 15 to 480 minutes, in steps of 5.
pub struct SessionLength;

impl PartialSchema for SessionLength {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .description(Some("Minutes: 15 to 480, in steps of 5."))
            .minimum(Some(15))
            .maximum(Some(super::availability::MAX_SESSION_MINUTES))
            .multiple_of(Some(5))
            .into()
    }
}

impl ToSchema for SessionLength {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SessionLength")
    }
}

/// What `Email::parse` takes, as a pattern (ASCII letters only where it
/// also takes any Unicode letter or digit): a local part, `@`, a dotted
/// domain.
pub const EMAIL_PATTERN: &str =
    r"^\s*[A-Za-z0-9!#$%&*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\s*$";

/// An e-mail address as the server reads it.
pub struct EmailAddress;

impl PartialSchema for EmailAddress {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            // No `format: email`: the server trims surrounding white space,
            // which that format refuses.
            .description(Some(
                "An e-mail address (surrounding white space is trimmed).",
            ))
            .pattern(Some(EMAIL_PATTERN))
            .into()
    }
}

impl ToSchema for EmailAddress {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EmailAddress")
    }
}

/// Pasted text (`text::stripped_block`): control characters are dropped,
/// and what is left needs a visible character.
pub struct VisibleText;

impl PartialSchema for VisibleText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Text with a visible character; control characters are dropped.",
            ))
            .pattern(Some(r"[^\s\u0000-\u001F\u007F-\u009F]"))
            .into()
    }
}

impl ToSchema for VisibleText {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("VisibleText")
    }
}

/// Optional free text over lines: empty, or as `TextBlock`.
pub struct OptionalTextBlock;

impl PartialSchema for OptionalTextBlock {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Line breaks and tabs, but no other control characters.",
            ))
            .pattern(Some(
                r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
            ))
            .into()
    }
}

impl ToSchema for OptionalTextBlock {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OptionalTextBlock")
    }
}

/// A string with a fixed set of values, named in `components/schemas`.
macro_rules! choice {
    ($(#[$meta:meta])* $name:ident, $description:literal, $values:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl $name {
            /// The values the schema lists.
            pub fn values() -> Vec<String> {
                $values
            }
        }

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($description))
                    .enum_values(Some(Self::values()))
                    .into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

choice!(
    /// The disputes list's `status` filter.
    DisputeFilter,
    "`active` (every dispute not yet resolved or withdrawn), one status, or empty for all.",
    ["", "active"]
        .into_iter()
        .map(str::to_string)
        .chain(super::status::DisputeStatus::ALL.iter().map(|s| s.as_str().to_string()))
        .collect()
);

choice!(
    /// The review queue's `status` filter.
    ReviewFilter,
    "One review status, or `all`.",
    super::status::ReviewStatus::ALL
        .iter()
        .map(|s| s.as_str().to_string())
        .chain(std::iter::once("all".to_string()))
        .collect()
);

choice!(
    /// How a paper's researchers are ordered.
    ResearcherSort,
    "`authors` (the paper's order, the default) or `rating`.",
    strings(&["authors", "rating"])
);

choice!(
    /// A participant named in a no-show report.
    NoShowParty,
    "`reader` or `researcher`.",
    strings(&["reader", "researcher"])
);

choice!(
    /// An analytics bucket.
    BucketName,
    "`day`, `week` or `month`.",
    strings(&["day", "week", "month"])
);

choice!(
    /// A time zone, or empty to clear the account's.
    TimeZoneOrEmpty,
    "An IANA time-zone name such as `Europe/Berlin`, or empty to clear it.",
    std::iter::once(String::new())
        .chain(chrono_tz::TZ_VARIANTS.iter().map(|z| z.name().to_string()))
        .collect()
);

choice!(
    /// What `GET /api/v1/exports/{dataset}` exports.
    ExportDataset,
    "sessions, payments, invoices, reviews, researchers, users or analytics.",
    strings(&["sessions", "payments", "invoices", "reviews", "researchers", "users", "analytics"])
);

choice!(
    /// The ledger's `kind` filter.
    LedgerKind,
    "One kind of ledger row.",
    strings(&["authorization", "release", "capture", "refund", "subscription_charge", "dispute"])
);

choice!(
    /// An export's file format.
    ExportFormat,
    "`csv` (the default) or `json` (one JSON object a line).",
    strings(&["csv", "json"])
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
