//! A review's stars (1 to 5) and the averages made of them.

use std::fmt;

/// One to five stars; nothing else can be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stars(u8);

impl Stars {
    pub fn parse(n: i64) -> Result<Self, String> {
        match u8::try_from(n) {
            Ok(s @ 1..=5) => Ok(Self(s)),
            _ => Err("must be a whole number of stars from 1 to 5".into()),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Stars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What readers' published reviews add up to; absent until the first
/// (never a made-up value).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct RatingView {
    /// 1.0 to 5.0, rounded to one decimal.
    pub average: f64,
    /// How many published reviews the average is of (at least 1).
    pub count: i64,
}

impl RatingView {
    /// From a count and a sum of stars; None without reviews.
    pub fn new(count: i64, total: i64) -> Option<Self> {
        (count > 0).then(|| Self {
            average: rounded(total as f64 / count as f64),
            count,
        })
    }

    /// "4.6 of 5 (12 reviews)".
    pub fn label(&self) -> String {
        let plural = if self.count == 1 { "review" } else { "reviews" };
        format!("{:.1} of 5 ({} {plural})", self.average, self.count)
    }

    /// Whole stars for a compact display: "★★★★☆".
    pub fn stars(&self) -> String {
        let full = self.average.round().clamp(0.0, 5.0) as usize;
        format!("{}{}", "★".repeat(full), "☆".repeat(5 - full))
    }
}

/// The average that orders lists by rating: `count` reviews averaging
/// `average`, pulled towards the site-wide `prior_mean` by `prior_weight`
/// imaginary reviews, so one 5-star review does not beat fifty 4.8s.
/// With no reviews it is the prior itself.
pub fn bayesian(average: f64, count: i64, prior_mean: f64, prior_weight: i64) -> f64 {
    let (n, m) = (count.max(0) as f64, prior_weight.max(0) as f64);
    if n + m == 0.0 {
        return prior_mean;
    }
    (n * average + m * prior_mean) / (n + m)
}

/// What lists ordered by rating sort on (highest first): the Bayesian
/// average of a rating, or the prior's mean for no rating at all.
pub fn sort_key(rating: Option<&RatingView>, prior_mean: f64, prior_weight: i64) -> f64 {
    rating.map_or(prior_mean, |r| {
        bayesian(r.average, r.count, prior_mean, prior_weight)
    })
}

/// Rounds an average to one decimal, as shown and sent.
pub fn rounded(average: f64) -> f64 {
    (average * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_are_one_to_five() {
        assert!(Stars::parse(0).is_err());
        assert!(Stars::parse(6).is_err());
        assert!(Stars::parse(-1).is_err());
        assert_eq!(Stars::parse(5).unwrap().get(), 5);
    }

    #[test]
    fn one_five_star_review_does_not_beat_fifty_at_four_point_eight() {
        let prior = 4.0;
        let one = bayesian(5.0, 1, prior, 5);
        let fifty = bayesian(4.8, 50, prior, 5);
        assert!(fifty > one, "{fifty} vs {one}");
        assert_eq!(bayesian(0.0, 0, prior, 5), prior);
        assert_eq!(bayesian(3.0, 4, prior, 0), 3.0);
        assert_eq!(rounded(4.66), 4.7);
    }
}
