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
    "`active` (every dispute not yet resolved or withdrawn) or one status.",
    std::iter::once("active".to_string())
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
    /// An export's file format.
    ExportFormat,
    "`csv` (the default) or `json` (one JSON object a line).",
    strings(&["csv", "json"])
);

#[cfg(test)]
mod tests {
    use super::*;

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
