use super::*;

#[test]
fn amounts_read_with_their_currencys_decimals() {
    let c = |code| Currency::parse(code).unwrap();
    assert_eq!(Money::new(4760, c("EUR")).to_string(), "EUR 47.60");
    assert_eq!(Money::new(-2380, c("EUR")).to_string(), "-EUR 23.80");
    assert_eq!(Money::new(4760, c("JPY")).to_string(), "JPY 4760");
    assert_eq!(Money::new(1500, c("BHD")).to_string(), "BHD 1.500");
    assert_eq!(format(4760, "JPY"), "JPY 4760");
    assert_eq!(format(4760, "XQQ"), "XQQ 47.60");
    assert!(Currency::parse("EURO").is_err());
}

#[test]
fn plain_numbers_keep_the_currencys_decimals() {
    assert_eq!(decimal(4760, "JPY"), "4760");
    assert_eq!(decimal(1500, "KWD"), "1.500");
    assert_eq!(decimal(3, "KWD"), "0.003");
    assert_eq!(decimal(-2380, "EUR"), "-23.80");
    assert_eq!(decimal(0, "EUR"), "0.00");
    assert_eq!(decimal(4760, "XQQ"), "47.60");
}

#[test]
fn arithmetic_refuses_mixed_currencies() {
    let eur = Money::new(1000, Currency::parse("EUR").unwrap());
    let usd = Money::new(1000, Currency::parse("USD").unwrap());
    assert_eq!(eur.checked_add(eur).unwrap().minor, 2000);
    assert_eq!(eur.checked_sub(eur).unwrap().minor, 0);
    assert!(eur.checked_add(usd).is_err());
    assert_eq!(eur.percent(50).minor, 500);
    assert!(eur.min(usd).is_err());
    assert!(eur.share(usd, eur).is_err());
    assert_eq!(eur.min(Money::new(400, eur.currency)).unwrap().minor, 400);
}

#[test]
fn a_taxed_price_keeps_its_currency_and_jpy_has_no_decimals() {
    let jpy = Currency::parse("JPY").unwrap();
    let t = Money::new(4000, jpy).taxed(Some(&vat(1900)), false);
    assert_eq!(t.tax, Money::new(760, jpy));
    assert_eq!(t.gross.to_string(), "JPY 4760");
    let eur = Currency::parse("EUR").unwrap();
    let refund_tax = Money::new(760, eur).share(Money::new(2380, eur), Money::new(4760, eur));
    assert_eq!(refund_tax.unwrap().to_string(), "EUR 3.80");
}

fn vat(bp: i64) -> Rate {
    Rate {
        name: "VAT".into(),
        basis_points: bp,
    }
}

#[test]
fn exclusive_prices_get_the_tax_added_and_rounded_half_up() {
    // 19 % of 40.00 = 7.60.
    let b = apply_tax(4000, Some(&vat(1900)), false);
    assert_eq!((b.net_minor, b.tax_minor, b.gross_minor), (4000, 760, 4760));
    // 19 % of 0.05 = 0.0095 → 0.01 (half away from zero).
    assert_eq!(apply_tax(5, Some(&vat(1900)), false).tax_minor, 1);
    // 7.7 % of 0.13 = 0.01001 → 0.01; of 0.06 = 0.00462 → 0.00.
    assert_eq!(apply_tax(13, Some(&vat(770)), false).tax_minor, 1);
    assert_eq!(apply_tax(6, Some(&vat(770)), false).tax_minor, 0);
    // Exactly half a cent rounds up: 10 % of 0.05 = 0.005 → 0.01.
    assert_eq!(apply_tax(5, Some(&vat(1000)), false).tax_minor, 1);
}

#[test]
fn inclusive_prices_contain_the_tax() {
    // 47.60 including 19 % is 40.00 + 7.60.
    let b = apply_tax(4760, Some(&vat(1900)), true);
    assert_eq!((b.net_minor, b.tax_minor, b.gross_minor), (4000, 760, 4760));
    // 10.00 including 19 %: 1000 × 19 / 119 = 159.66 → 1.60.
    let b = apply_tax(1000, Some(&vat(1900)), true);
    assert_eq!((b.net_minor, b.tax_minor), (840, 160));
    assert_eq!(b.net_minor + b.tax_minor, b.gross_minor);
}

#[test]
fn no_rate_means_no_tax() {
    let b = apply_tax(4000, None, false);
    assert_eq!((b.net_minor, b.tax_minor, b.gross_minor), (4000, 0, 4000));
    assert_eq!(apply_tax(4000, Some(&vat(0)), true).tax_minor, 0);
}

#[test]
fn percentages_round_half_up_and_are_bounded() {
    assert_eq!(percent_of(4760, 50), 2380);
    assert_eq!(percent_of(1001, 50), 501);
    assert_eq!(percent_of(999, 10), 100);
    assert_eq!(percent_of(1000, 150), 1000);
    assert_eq!(percent_of(1000, -5), 0);
}

#[test]
fn shares_round_half_up_and_money_prints_with_its_sign() {
    assert_eq!(share(760, 2380, 4760), 380);
    assert_eq!(share(639, 1000, 4000), 160);
    assert_eq!(share(100, 1, 0), 0);
    assert_eq!(format(4760, "EUR"), "EUR 47.60");
    assert_eq!(format(-2380, "EUR"), "-EUR 23.80");
    assert_eq!(format(5, "USD"), "USD 0.05");
}

#[test]
fn the_most_generous_tier_met_applies() {
    let tiers = [
        RefundTier {
            hours_before: 48,
            refund_percent: 100,
        },
        RefundTier {
            hours_before: 24,
            refund_percent: 50,
        },
    ];
    assert_eq!(refund_percent(&tiers, 72 * 60), 100);
    assert_eq!(refund_percent(&tiers, 48 * 60), 100);
    assert_eq!(refund_percent(&tiers, 48 * 60 - 1), 50);
    assert_eq!(refund_percent(&tiers, 24 * 60), 50);
    assert_eq!(refund_percent(&tiers, 23 * 60), 0);
    assert_eq!(refund_percent(&[], 1000), 0);
}

#[test]
fn typed_amounts_become_minor_units_of_their_currency() {
    let c = |code| Currency::parse(code).unwrap();
    assert_eq!(parse_major("15", c("EUR")), Ok(1500));
    assert_eq!(parse_major(" 15.5 ", c("EUR")), Ok(1550));
    assert_eq!(parse_major("15,05", c("EUR")), Ok(1505));
    assert_eq!(parse_major("4760", c("JPY")), Ok(4760));
    assert_eq!(parse_major("1.5", c("BHD")), Ok(1500));
    for bad in [
        "",
        "-5",
        "1.234",
        "1e3",
        "abc",
        ".5",
        "99999999999999999999",
    ] {
        assert!(parse_major(bad, c("EUR")).is_err(), "{bad}");
    }
    assert!(parse_major("1.5", c("JPY")).is_err());
    assert_eq!(
        parse_major("1.2345", c("KWD")),
        Err("must be an amount in KWD such as 15.000".into())
    );
    assert_eq!(
        parse_major("x", c("JPY")),
        Err("must be an amount in JPY such as 15".into())
    );
}

#[test]
fn grouped_amounts_put_a_comma_every_three_digits() {
    let c = |code| Currency::parse(code).unwrap();
    assert_eq!(Money::new(123_456, c("EUR")).grouped(), "EUR 1,234.56");
    assert_eq!(
        Money::new(-123_456_789, c("EUR")).grouped(),
        "-EUR 1,234,567.89"
    );
    assert_eq!(Money::new(1_234, c("JPY")).grouped(), "JPY 1,234");
    assert_eq!(Money::new(5, c("EUR")).grouped(), "EUR 0.05");
    assert_eq!(group_digits(0), "0");
    assert_eq!(group_digits(999), "999");
    assert_eq!(group_digits(1_000), "1,000");
    assert_eq!(group_digits(12_345_678), "12,345,678");
}

/// Properties of the money rules (issue 17): whatever the amounts, rates
/// and refunds, the parts add back to the total and a refund never gives
/// back more than was paid.
mod properties {
    use super::super::*;
    use proptest::prelude::*;

    fn rate(basis_points: i64) -> Rate {
        Rate {
            name: "VAT".into(),
            basis_points,
        }
    }

    proptest! {
        #[test]
        fn a_tax_split_adds_back_to_the_price(
            price in 0i64..1_000_000_000,
            bp in 0i64..=10_000,
            inclusive: bool,
        ) {
            let b = apply_tax(price, Some(&rate(bp)), inclusive);
            prop_assert_eq!(b.net_minor + b.tax_minor, b.gross_minor);
            prop_assert!(b.tax_minor >= 0);
            if inclusive {
                prop_assert_eq!(b.gross_minor, price);
                prop_assert!(b.tax_minor <= price);
            } else {
                prop_assert_eq!(b.net_minor, price);
            }
        }

        /// Partial refunds in any order and sizes: their tax shares add up
        /// to the share of what was refunded, never more than the tax, and
        /// to the whole tax once everything is refunded.
        #[test]
        fn refund_tax_shares_add_up_to_the_tax(
            paid in 1i64..10_000_000,
            tax_bp in 0i64..=10_000,
            cuts in proptest::collection::vec(1u32..1000, 1..8),
        ) {
            let tax = apply_tax(paid, Some(&rate(tax_bp)), true).tax_minor;
            let weights: u64 = cuts.iter().map(|c| u64::from(*c)).sum();
            let mut parts: Vec<i64> = cuts
                .iter()
                .map(|c| (paid as u64 * u64::from(*c) / weights) as i64)
                .collect();
            let short = paid - parts.iter().sum::<i64>();
            parts[0] += short;
            let (mut before, mut given) = (0, 0);
            for part in parts {
                let this = share_after(tax, before, part, paid);
                prop_assert!(this >= 0);
                before += part;
                given += this;
                prop_assert!(given <= tax);
                prop_assert_eq!(given, share(tax, before, paid));
            }
            prop_assert_eq!(before, paid);
            prop_assert_eq!(given, tax);
        }

        /// A refund is a percentage from the tiers (0–100) of what was
        /// captured: never more than it.
        #[test]
        fn a_refund_never_exceeds_what_was_captured(
            captured in 0i64..1_000_000_000,
            tiers in proptest::collection::vec((0i64..200, 0i64..=100), 0..5),
            minutes_left in -10_000i64..100_000,
        ) {
            let tiers: Vec<RefundTier> = tiers
                .into_iter()
                .map(|(hours_before, refund_percent)| RefundTier { hours_before, refund_percent })
                .collect();
            let percent = refund_percent(&tiers, minutes_left);
            prop_assert!((0..=100).contains(&percent));
            let refund = percent_of(captured, percent);
            prop_assert!((0..=captured).contains(&refund));
        }
    }
}
