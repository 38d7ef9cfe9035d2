//! The auto-hold rules: what keeps a review or an answer from being
//! published until a moderator has read it.

use std::sync::OnceLock;

use regex::Regex;

use crate::config::ReviewsConfig;

/// Why a review or answer was held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldRule {
    /// An e-mail address, a phone number or a URL: contact outside the
    /// service, or advertising.
    Contact,
    /// A word on `[reviews] blocked_terms`.
    BlockedTerm,
    /// One star and no word of why: unfair to answer, often a mistake.
    OneStarNoComment,
    /// The author's account is younger than `min_account_age_hours`.
    NewAccount,
    /// Readers reported it `reports_to_hold` times.
    Reports,
}

impl HoldRule {
    pub const ALL: [HoldRule; 5] = [
        HoldRule::Contact,
        HoldRule::BlockedTerm,
        HoldRule::OneStarNoComment,
        HoldRule::NewAccount,
        HoldRule::Reports,
    ];

    /// As stored (`reviews.held_rule`) and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldRule::Contact => "contact_details",
            HoldRule::BlockedTerm => "blocked_term",
            HoldRule::OneStarNoComment => "one_star_without_comment",
            HoldRule::NewAccount => "new_account",
            HoldRule::Reports => "reports",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// For moderators: why it waits for them.
    pub fn label(self) -> &'static str {
        match self {
            HoldRule::Contact => "contains an e-mail address, phone number or link",
            HoldRule::BlockedTerm => "uses a blocked word",
            HoldRule::OneStarNoComment => "one star without a comment",
            HoldRule::NewAccount => "written by a new account",
            HoldRule::Reports => "reported by readers",
        }
    }
}

/// The patterns of contact details (a unit test proves all compile).
fn contact_patterns() -> &'static [Regex] {
    static PATTERNS: OnceLock<Vec<Regex>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            // An e-mail address.
            r"[\w.+-]+@[\w-]+(\.[\w-]+)+",
            // One with "at" and "dot" spelt out: "ada (at) uni (dot) org".
            r"(?i)[\w.+-]+\s*(\(at\)|\[at\]|\sat\s)\s*[\w-]+\s*(\(dot\)|\[dot\]|\sdot\s)\s*[a-z]{2,}",
            // A link: a scheme, "www.", or a host name with a common
            // top-level domain.
            r"(?i)\b(https?://|www\.)\S+|\b[a-z0-9-]+\.(com|org|net|edu|io|me|info|biz|de|uk|fr|ch|nl|it|es|eu|ly|gl)\b(/\S*)?",
            // A phone number: international (+), national (a leading 0),
            // or ten digits and more; spaces, dots, dashes and brackets
            // may sit between the digits. Years ("2023-2024") are not.
            r"\+\d(?:[\s().-]*\d){6,}|\(?\b0\d(?:[\s().-]*\d){5,}|\b\d(?:[\s.-]*\d){9,}",
        ]
        .into_iter()
        .filter_map(|p| Regex::new(p).ok())
        .collect()
    })
}

/// Whether `text` gives a way to reach someone outside the service.
pub fn has_contact(text: &str) -> bool {
    contact_patterns().iter().any(|p| p.is_match(text))
}

/// Whether `text` holds one of the blocked words (whole words, any case).
pub fn has_blocked_term(text: &str, terms: &[String]) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect();
    terms.iter().any(|t| {
        let t = t.trim().to_lowercase();
        if t.contains(char::is_whitespace) {
            lower.contains(&t)
        } else {
            words.iter().any(|w| *w == t)
        }
    })
}

/// What the rules say of a text (and, for a review, its stars): the first
/// rule that holds it, or None to publish.
pub fn hold(
    config: &ReviewsConfig,
    text: Option<&str>,
    stars: Option<u8>,
    account_age_hours: i64,
) -> Option<HoldRule> {
    if let Some(t) = text {
        if has_contact(t) {
            return Some(HoldRule::Contact);
        }
        if has_blocked_term(t, &config.blocked_terms) {
            return Some(HoldRule::BlockedTerm);
        }
    }
    if stars == Some(1) && text.is_none() {
        return Some(HoldRule::OneStarNoComment);
    }
    if account_age_hours < config.min_account_age_hours {
        return Some(HoldRule::NewAccount);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_details_are_found_in_their_common_disguises() {
        assert_eq!(contact_patterns().len(), 4, "every pattern compiles");
        for t in [
            "write me at ada@uni.example",
            "ada (at) uni (dot) example",
            "see https://example.org/x",
            "see www.example.org",
            "my site is adalovelace.com",
            "call +44 20 7946 0958",
            "call (030) 123-4567",
            "call 555-123-4567",
        ] {
            assert!(has_contact(t), "{t}");
        }
        for t in [
            "Clear answers about the 2023 paper, 5 stars.",
            "She explained section 3.2 and eq. 14 well.",
            "We met at 10.30 for 45 minutes.",
            "We met at noon. Very helpful.",
            "Covers the 2023-2024 results.",
            "",
        ] {
            assert!(!has_contact(t), "{t}");
        }
    }

    #[test]
    fn blocked_terms_match_whole_words_in_any_case() {
        let terms = vec!["scam".to_string(), "total fraud".to_string()];
        assert!(has_blocked_term("What a SCAM.", &terms));
        assert!(has_blocked_term("a total fraud, really", &terms));
        assert!(!has_blocked_term("scampi for lunch", &terms));
    }

    #[test]
    fn the_first_rule_that_applies_holds() {
        let c = ReviewsConfig::default();
        assert_eq!(hold(&c, Some("Great help."), Some(5), 100), None);
        assert_eq!(
            hold(&c, None, Some(1), 100),
            Some(HoldRule::OneStarNoComment)
        );
        assert_eq!(hold(&c, Some("Poor."), Some(1), 100), None);
        assert_eq!(
            hold(&c, Some("Great."), Some(5), 2),
            Some(HoldRule::NewAccount)
        );
        assert_eq!(
            hold(&c, Some("mail ada@uni.example"), Some(5), 2),
            Some(HoldRule::Contact)
        );
        for r in HoldRule::ALL {
            assert_eq!(HoldRule::parse(r.as_str()), Some(r));
        }
    }
}
