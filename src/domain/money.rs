//! Money arithmetic in integer minor units: tax (inclusive or exclusive
//! prices), percentages (discounts, fees, refunds) and the refund tier for
//! a cancellation. Rounding is stated once: half away from zero, to the
//! minor unit, on each tax line.

use serde::{Deserialize, Serialize};

/// A tax rate in basis points (1 % = 100).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub name: String,
    pub basis_points: i64,
}

/// A price broken into net, tax and gross.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    pub net_minor: i64,
    pub tax_minor: i64,
    pub gross_minor: i64,
    /// The rate applied, if any.
    pub rate: Option<Rate>,
}

/// `numerator / denominator`, rounded half away from zero (both ≥ 0).
fn div_round(numerator: i128, denominator: i128) -> i64 {
    ((numerator * 2 + denominator) / (denominator * 2)) as i64
}

/// Splits `price` by `rate`: an inclusive price already contains the tax
/// (tax = price × r / (1 + r)); an exclusive one gets it added
/// (tax = price × r). The tax is rounded half away from zero.
pub fn apply_tax(price_minor: i64, rate: Option<&Rate>, inclusive: bool) -> Breakdown {
    let Some(rate) = rate.filter(|r| r.basis_points > 0) else {
        return Breakdown {
            net_minor: price_minor,
            tax_minor: 0,
            gross_minor: price_minor,
            rate: None,
        };
    };
    let p = i128::from(price_minor.max(0));
    let bp = i128::from(rate.basis_points);
    if inclusive {
        let tax = div_round(p * bp, 10_000 + bp);
        Breakdown {
            net_minor: price_minor - tax,
            tax_minor: tax,
            gross_minor: price_minor,
            rate: Some(rate.clone()),
        }
    } else {
        let tax = div_round(p * bp, 10_000);
        Breakdown {
            net_minor: price_minor,
            tax_minor: tax,
            gross_minor: price_minor + tax,
            rate: Some(rate.clone()),
        }
    }
}

/// `percent` % of an amount, rounded half away from zero.
pub fn percent_of(amount_minor: i64, percent: i64) -> i64 {
    div_round(
        i128::from(amount_minor.max(0)) * i128::from(percent.clamp(0, 100)),
        100,
    )
}

/// `total × part / whole`, rounded half away from zero: a part's share of
/// an amount (a partial refund's share of the tax). `whole` 0 gives 0.
pub fn share(total_minor: i64, part_minor: i64, whole_minor: i64) -> i64 {
    if whole_minor <= 0 {
        return 0;
    }
    div_round(
        i128::from(total_minor.max(0)) * i128::from(part_minor.max(0)),
        i128::from(whole_minor),
    )
}

/// An ISO 4217 currency, with its minor-unit exponent (2 for EUR, 0 for
/// JPY, 3 for BHD), from the `iso_currency` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// An ISO 4217 code such as `EUR` (upper case).
    pub fn parse(code: &str) -> Result<Self, String> {
        iso_currency::Currency::from_code(code.trim())
            .map(Self)
            .ok_or_else(|| format!("`{code}` is not an ISO 4217 currency code such as EUR"))
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point (2 where the table gives none).
    pub fn exponent(self) -> u32 {
        self.0.exponent().map_or(2, u32::from)
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Sent as its code (`"EUR"`).
impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// Stored as its code.
impl rusqlite::ToSql for Currency {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::from(self.code()))
    }
}

impl rusqlite::types::FromSql for Currency {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        Currency::parse(v.as_str()?).map_err(|e| rusqlite::types::FromSqlError::Other(e.into()))
    }
}

/// Arithmetic on amounts in different currencies is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot combine {0} and {1}")]
pub struct MixedCurrencies(pub Currency, pub Currency);

/// An amount in integer minor units of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MixedCurrencies> {
        self.same(other)?;
        Ok(Money::new(self.minor + other.minor, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MixedCurrencies> {
        self.same(other)?;
        Ok(Money::new(self.minor - other.minor, self.currency))
    }

    fn same(self, other: Money) -> Result<(), MixedCurrencies> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MixedCurrencies(self.currency, other.currency))
        }
    }

    /// `percent` % of the amount, rounded half away from zero.
    pub fn percent(self, percent: i64) -> Money {
        Money::new(percent_of(self.minor, percent), self.currency)
    }

    /// Nothing, in `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money::new(0, currency)
    }

    pub fn is_zero(self) -> bool {
        self.minor == 0
    }

    /// The smaller of two amounts in one currency.
    pub fn min(self, other: Money) -> Result<Money, MixedCurrencies> {
        self.same(other)?;
        Ok(if other.minor < self.minor {
            other
        } else {
            self
        })
    }

    /// This amount's part of `part` out of `whole` (the tax in a partial
    /// refund), rounded half away from zero.
    pub fn share(self, part: Money, whole: Money) -> Result<Money, MixedCurrencies> {
        self.same(part)?;
        self.same(whole)?;
        Ok(Money::new(
            share(self.minor, part.minor, whole.minor),
            self.currency,
        ))
    }

    /// The price split by `rate` (see [`apply_tax`]).
    pub fn taxed(self, rate: Option<&Rate>, inclusive: bool) -> Taxed {
        let b = apply_tax(self.minor, rate, inclusive);
        Taxed {
            net: Money::new(b.net_minor, self.currency),
            tax: Money::new(b.tax_minor, self.currency),
            gross: Money::new(b.gross_minor, self.currency),
            rate: b.rate,
        }
    }
}

/// A price broken into net, tax and gross, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxed {
    pub net: Money,
    pub tax: Money,
    pub gross: Money,
    /// The rate applied, if any.
    pub rate: Option<Rate>,
}

/// As people read it, with the currency's own number of decimals:
/// "EUR 47.60", "-EUR 23.80", "JPY 4760", "BHD 1.500".
impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_amount(
            f,
            self.minor,
            self.currency.code(),
            self.currency.exponent(),
        )
    }
}

fn write_amount(
    f: &mut impl std::fmt::Write,
    minor: i64,
    code: &str,
    exponent: u32,
) -> std::fmt::Result {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    if exponent == 0 {
        return write!(f, "{sign}{code} {m}");
    }
    let unit = 10u64.pow(exponent);
    write!(
        f,
        "{sign}{code} {}.{:0width$}",
        m / unit,
        m % unit,
        width = exponent as usize
    )
}

/// Money as people read it from a stored amount and code; an unknown code
/// is shown with two decimals.
pub fn format(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::new(minor, c).to_string(),
        Err(_) => {
            let mut out = String::new();
            let _ = write_amount(&mut out, minor, currency, 2);
            out
        }
    }
}

/// A refund tier: cancelling at least `hours_before` the start refunds
/// `refund_percent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundTier {
    pub hours_before: i64,
    pub refund_percent: i64,
}

/// The refund percentage for a cancellation `hours_left` before the start:
/// the most generous tier whose notice was met, else 0.
pub fn refund_percent(tiers: &[RefundTier], minutes_left: i64) -> i64 {
    tiers
        .iter()
        .filter(|t| minutes_left >= t.hours_before * 60)
        .map(|t| t.refund_percent)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
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
}
