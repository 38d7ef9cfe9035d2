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

/// The share of `total` carried by the part `before .. before + part` of
/// `whole`: the share of everything refunded so far minus the share of
/// what was refunded before. Successive parts' shares add up to the share
/// of their sum, and to `total` exactly once the whole is covered; each
/// part rounded on its own could add up to more than `total` (two halves
/// of a 5-cent tax were 3 + 3).
pub fn share_after(total_minor: i64, before_minor: i64, part_minor: i64, whole_minor: i64) -> i64 {
    let before = before_minor.clamp(0, whole_minor.max(0));
    let after = before_minor
        .saturating_add(part_minor)
        .clamp(before, whole_minor.max(0));
    share(total_minor, after, whole_minor) - share(total_minor, before, whole_minor)
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

    /// This amount's part of `part` out of `whole` when `before` of the
    /// whole was taken already (see [`share_after`]).
    pub fn share_after(
        self,
        before: Money,
        part: Money,
        whole: Money,
    ) -> Result<Money, MixedCurrencies> {
        self.same(before)?;
        self.same(part)?;
        self.same(whole)?;
        Ok(Money::new(
            share_after(self.minor, before.minor, part.minor, whole.minor),
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
            false,
        )
    }
}

impl Money {
    /// With the thousands grouped, for tables and charts that compare sums:
    /// "EUR 1,234.56", "JPY 1,234".
    pub fn grouped(self) -> String {
        let mut out = String::new();
        let _ = write_amount(
            &mut out,
            self.minor,
            self.currency.code(),
            self.currency.exponent(),
            true,
        );
        out
    }
}

/// Digits in threes: 1234567 as "1,234,567".
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn write_amount(
    f: &mut impl std::fmt::Write,
    minor: i64,
    code: &str,
    exponent: u32,
    grouped: bool,
) -> std::fmt::Result {
    let sign = if minor < 0 { "-" } else { "" };
    write!(f, "{sign}{code} ")?;
    write_units(f, minor.unsigned_abs(), exponent, grouped)
}

/// `m` minor units as a number in major units with exactly `exponent`
/// decimals: 4760 and 0 as "4760", 1500 and 3 as "1.500".
fn write_units(
    f: &mut impl std::fmt::Write,
    m: u64,
    exponent: u32,
    grouped: bool,
) -> std::fmt::Result {
    let unit = 10u64.pow(exponent);
    let whole = m / unit;
    let whole = if grouped {
        group_digits(whole)
    } else {
        whole.to_string()
    };
    if exponent == 0 {
        return write!(f, "{whole}");
    }
    write!(f, "{whole}.{:0width$}", m % unit, width = exponent as usize)
}

/// A stored amount as a plain number in major units with the currency's
/// own decimals ("4760" yen, "1.500" dinars, "-23.80" euros), for
/// spreadsheets and form fields; an unknown code gets two decimals.
pub fn decimal(minor: i64, currency: &str) -> String {
    let exponent = Currency::parse(currency).map_or(2, Currency::exponent);
    let mut out = String::from(if minor < 0 { "-" } else { "" });
    let _ = write_units(&mut out, minor.unsigned_abs(), exponent, false);
    out
}

/// Money as people read it from a stored amount and code; an unknown code
/// is shown with two decimals.
pub fn format(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::new(minor, c).to_string(),
        Err(_) => {
            let mut out = String::new();
            let _ = write_amount(&mut out, minor, currency, 2, false);
            out
        }
    }
}

/// An amount typed in major units ("15", "15.5", "15,50") as minor units
/// of `currency`; more decimals than the currency has, or anything that is
/// not a plain positive number, is refused.
pub fn parse_major(text: &str, currency: Currency) -> Result<i64, String> {
    let t = text.trim().replace(',', ".");
    let example = decimal(15 * 10i64.pow(currency.exponent()), currency.code());
    let bad = || format!("must be an amount in {currency} such as {example}");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    let exp = currency.exponent() as usize;
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > exp {
        return Err(bad());
    }
    let unit = 10i64.pow(currency.exponent());
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<exp$}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(unit)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)
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
#[path = "money_tests.rs"]
mod tests;
