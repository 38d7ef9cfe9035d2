//! Axis arithmetic shared by the charts: nice tick values, how many x
//! labels fit side by side, how wide a text is, and a value as the axis and
//! the table print it.

use crate::domain::money::{group_digits, Currency, Money};

/// What a chart's values count, which decides how they are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Whole things: sessions, researchers. "1,234".
    Count,
    /// Integer minor units of one currency: 123456 EUR is "EUR 1,234.56".
    Money(Currency),
    /// Percentages (0–100), printed with one decimal: "12.5%".
    Percent,
}

impl Unit {
    /// A value as the table shows it, exactly.
    pub(super) fn format(self, v: f64) -> String {
        match self {
            Unit::Count => signed(v.round(), 0),
            Unit::Money(c) => Money::new(v.round() as i64, c).grouped(),
            Unit::Percent => format!("{}%", signed(v, 1)),
        }
    }

    /// A value in the axis' units: money is drawn in major units, so its
    /// ticks fall on whole euros rather than on whole cents.
    pub(super) fn to_axis(self, v: f64) -> f64 {
        match self {
            Unit::Money(c) => v / 10f64.powi(c.exponent() as i32),
            _ => v,
        }
    }

    /// The smallest step between ticks that still means something.
    fn min_step(self) -> f64 {
        match self {
            Unit::Count => 1.0,
            Unit::Money(c) => 10f64.powi(-(c.exponent() as i32)),
            Unit::Percent => 0.1,
        }
    }

    /// A tick's label, short enough for the left margin: "1,500", "25k",
    /// "20%", "10 h". Money's currency is named once, above the axis.
    pub(super) fn tick(self, v: f64, decimals: usize) -> String {
        let a = v.abs();
        let n = if a >= 1e6 {
            format!("{}{}M", sign(v), round_to(a / 1e6, 1))
        } else if a >= 1e4 {
            format!("{}{}k", sign(v), round_to(a / 1e3, 1))
        } else {
            signed(v, decimals)
        };
        match self {
            Unit::Percent => format!("{n}%"),
            Unit::Count | Unit::Money(_) => n,
        }
    }

    /// A caption above the value axis, where the ticks alone do not say
    /// what is counted.
    pub(super) fn axis_caption(self) -> Option<&'static str> {
        match self {
            Unit::Money(c) => Some(c.code()),
            _ => None,
        }
    }

    /// Whether adding the values up means something (a total in the
    /// summary): counts and money, not shares or averages.
    pub(super) fn sums(self) -> bool {
        matches!(self, Unit::Count | Unit::Money(_))
    }
}

/// The tick values of a value axis.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Ticks {
    /// From the lowest to the highest; the first is 0 unless a value is
    /// negative, the last is at or above the highest value.
    pub values: Vec<f64>,
    /// Decimals that tell the ticks apart (1 for steps of 0.2).
    pub decimals: usize,
}

impl Ticks {
    pub fn lo(&self) -> f64 {
        self.values.first().copied().unwrap_or(0.0)
    }

    pub fn hi(&self) -> f64 {
        self.values.last().copied().unwrap_or(1.0)
    }
}

/// About five ticks 1, 2 or 5 × 10ⁿ apart, from 0 (or below, when a value
/// is negative) to at least `max`, never closer than the unit's smallest
/// step. All-zero data still gets an axis of 0 to one step, so nothing
/// divides by zero.
pub(super) fn nice_ticks(min: f64, max: f64, unit: Unit) -> Ticks {
    let lo = finite(min).min(0.0);
    let hi = finite(max).max(0.0);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
        .max(unit.min_step());
    let first = (lo / step + 1e-9).floor() as i64;
    let last = ((hi / step - 1e-9).ceil() as i64).max(first + 1);
    Ticks {
        values: (first..=last).map(|i| i as f64 * step).collect(),
        decimals: (-(step.log10() + 1e-9).floor()).max(0.0) as usize,
    }
}

/// Every how many buckets an x label can go: the labels, each `width`
/// wide and `slot` apart, keep a gap of at least `GAP` between them.
pub(super) fn label_step(slot: f64, width: f64) -> usize {
    const GAP: f64 = 8.0;
    if slot <= 0.0 {
        return usize::MAX;
    }
    ((width + GAP) / slot).ceil().max(1.0) as usize
}

/// A generous guess at a text's width in a sans-serif face (DejaVu Sans's
/// digits are 0.64 em, its "%" 0.95 em).
pub(super) fn text_width(text: &str, size: f64) -> f64 {
    let em: f64 = text
        .chars()
        .map(|c| match c {
            ' ' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' | 'i' | 'l' | '·' => 0.35,
            '%' | '@' | 'M' | 'W' | 'm' | 'w' | '★' => 0.95,
            c if c.is_uppercase() => 0.75,
            _ => 0.65,
        })
        .sum();
    em * size
}

/// NaN and the infinities count as 0: a broken value must not break the
/// drawing or the scale.
pub(super) fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// Rounded to a tenth of a user unit: enough for a drawing, short in the
/// markup.
pub(super) fn r1(v: f64) -> f64 {
    round_to(v, 1)
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    let r = (v * f).round() / f;
    // No "-0" in a label.
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

fn sign(v: f64) -> &'static str {
    if v < 0.0 {
        "-"
    } else {
        ""
    }
}

/// `v` with `decimals` decimals and its thousands grouped: "-1,234.5".
fn signed(v: f64, decimals: usize) -> String {
    let r = round_to(v, decimals as i32);
    let text = format!("{:.*}", decimals, r.abs());
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let whole = whole
        .parse()
        .map_or_else(|_| whole.to_string(), group_digits);
    let sign = sign(r);
    if frac.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac}")
    }
}
