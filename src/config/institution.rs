//! `[institution]`: who runs this instance, and how texts name it. The name
//! is empty by default, so every text that uses it reads well without it
//! (`Brand`): never "Colloquy's Colloquy" or "Colloquy · Colloquy".

use serde::{Deserialize, Serialize};

/// The product's own name, used where no institution name is set.
pub const PRODUCT: &str = "Colloquy";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstitutionConfig {
    /// Shown in the page header and title, the terms and e-mails, and on
    /// invoices unless `[invoices] seller_name` is set. Empty: texts name
    /// the service "Colloquy" alone.
    pub name: String,
    /// Where users write with questions about the service and their data.
    pub contact_email: String,
    /// The law the terms are given under, for example "Germany".
    pub jurisdiction: String,
    /// The institution's time zone (IANA name). Analytics buckets (days,
    /// weeks from Monday, months) and engagement counters use it.
    pub timezone: String,
    /// The version of the terms of use. Changing it makes every account
    /// accept the terms again at its next request; each version's text is
    /// kept as it first read and stays readable at `/terms/{version}`.
    pub terms_version: String,
    /// The version of the privacy notice, like `terms_version`
    /// (`/privacy/{version}`).
    pub privacy_version: String,
}

/// The versions the terms and the privacy notice had before they were
/// set in config.
pub const FIRST_TERMS_VERSION: &str = "2026-11-01";
pub const FIRST_PRIVACY_VERSION: &str = "2026-11-01";

impl Default for InstitutionConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            contact_email: "privacy@example.org".into(),
            jurisdiction: "the institution's home country".into(),
            timezone: "UTC".into(),
            terms_version: FIRST_TERMS_VERSION.into(),
            privacy_version: FIRST_PRIVACY_VERSION.into(),
        }
    }
}

impl InstitutionConfig {
    /// The name as texts use it: `None` when it is empty or just the
    /// product's name, which texts already say.
    pub fn display_name(&self) -> Option<&str> {
        shown(&self.name)
    }

    /// `timezone` as a zone; `validate` refuses a name that is none, so
    /// this falls back to UTC only for a config that was never checked.
    pub fn zone(&self) -> crate::domain::zone::Tz {
        self.timezone
            .trim()
            .parse()
            .unwrap_or(crate::domain::zone::DEFAULT)
    }

    /// Why a document version is unusable, if it is: it becomes a path
    /// segment (`/terms/{version}`), so 1 to 40 letters, digits, `.`, `_`
    /// or `-`.
    pub fn check_version(version: &str) -> Result<(), String> {
        let ok = !version.is_empty()
            && version.len() <= 40
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "`{version}` must be 1 to 40 letters, digits, dots, dashes or underscores (it is part of a URL)"
            ))
        }
    }

    pub fn brand(&self) -> Brand {
        Brand::new(&self.name)
    }
}

fn shown(name: &str) -> Option<&str> {
    let name = name.trim();
    (!name.is_empty() && !name.eq_ignore_ascii_case(PRODUCT)).then_some(name)
}

/// How a page or an e-mail names the service, with or without an
/// institution name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Brand {
    name: Option<String>,
}

impl Brand {
    /// The brand of an institution called `name` (empty: none).
    pub fn new(name: &str) -> Self {
        Self {
            name: shown(name).map(str::to_string),
        }
    }

    /// The institution's name, if one is set.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// A short name for the site: "Uni Bonn", or "Colloquy".
    pub fn site(&self) -> &str {
        self.name.as_deref().unwrap_or(PRODUCT)
    }

    /// The service in a sentence: "Uni Bonn's Colloquy service", or
    /// "Colloquy".
    pub fn service(&self) -> String {
        match &self.name {
            Some(n) => format!("{n}'s {PRODUCT} service"),
            None => PRODUCT.to_string(),
        }
    }

    /// The line under an e-mail: "Uni Bonn · Colloquy", or "Colloquy".
    pub fn signature(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} · {PRODUCT}"),
            None => PRODUCT.to_string(),
        }
    }
}

impl std::fmt::Display for Brand {
    /// The short name (`site`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.site())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> Brand {
        let b = Brand::new(name);
        let cfg = InstitutionConfig {
            name: name.into(),
            ..Default::default()
        };
        assert_eq!(cfg.brand(), b);
        b
    }

    #[test]
    fn the_default_name_is_empty_and_texts_say_colloquy_once() {
        assert_eq!(InstitutionConfig::default().name, "");
        let b = InstitutionConfig::default().brand();
        assert_eq!(b.site(), "Colloquy");
        assert_eq!(b.service(), "Colloquy");
        assert_eq!(b.signature(), "Colloquy");
        assert_eq!(b.name(), None);
    }

    #[test]
    fn a_name_that_is_the_products_counts_as_unset() {
        for n in ["Colloquy", " colloquy ", "   "] {
            assert_eq!(named(n), Brand::default(), "{n:?}");
        }
    }

    #[test]
    fn document_versions_must_fit_in_a_path() {
        assert!(InstitutionConfig::check_version("2026-11-01").is_ok());
        assert!(InstitutionConfig::check_version("v2.1_b").is_ok());
        for bad in ["", "a/b", "two words", "../x", &"9".repeat(41)] {
            assert!(InstitutionConfig::check_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_set_name_leads_and_colloquy_follows() {
        let b = named("Uni Bonn");
        assert_eq!(b.site(), "Uni Bonn");
        assert_eq!(b.service(), "Uni Bonn's Colloquy service");
        assert_eq!(b.signature(), "Uni Bonn · Colloquy");
    }
}
