//! Parsers that read what people and other systems send (issue 17): for
//! any input they answer a value or a typed error, and never panic.

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn text_checks_never_panic(s in "\\PC*|.*") {
        let _ = super::text::line(&s, 50);
        let _ = super::text::block(&s, 50);
        let _ = super::text::stripped_block(Some(&s), 50);
    }

    #[test]
    fn dois_times_weekdays_and_zones_never_panic(s in "\\PC{0,40}|10\\.[0-9é]{0,8}/.{0,10}|[0-9:]{0,6}") {
        let _ = super::paper::parse_doi(&s);
        let _ = super::availability_rules::parse_time(&s);
        let _ = super::availability_rules::parse_weekday(&s);
        let _ = super::availability::parse_timezone(&s);
        let _ = super::availability::check_currency(&s);
        let _ = super::email::Email::parse(&s);
    }

    /// A time the parser takes is a minute of the day (0–1440), and it
    /// reads back as itself.
    #[test]
    fn a_parsed_time_is_a_minute_of_the_day(h in 0u32..30, m in 0u32..70) {
        let text = format!("{h}:{m:02}");
        if let Some(minutes) = super::availability_rules::parse_time(&text) {
            prop_assert!((0..=1440).contains(&minutes));
            let again = super::availability_rules::format_time(minutes);
            prop_assert_eq!(super::availability_rules::parse_time(&again), Some(minutes));
        }
    }

    #[test]
    fn amounts_in_major_units_never_panic(s in "\\PC{0,20}|-?[0-9]{0,12}([.,][0-9]{0,4})?") {
        for code in ["EUR", "JPY", "BHD"] {
            let currency = super::money::Currency::parse(code).expect("a known currency");
            if let Ok(minor) = super::money::parse_major(&s, currency) {
                prop_assert!(minor >= 0);
            }
        }
    }
}
