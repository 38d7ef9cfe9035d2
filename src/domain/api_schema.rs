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
