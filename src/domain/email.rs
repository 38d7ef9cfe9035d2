//! An e-mail address, trimmed and lower-cased, checked for a plausible shape.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.len() > 254 {
            return Err("is longer than 254 characters".into());
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("must not contain spaces or control characters".into());
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("is not an e-mail address".into());
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&*+-/=?^_`{|}~.".contains(c));
        if !domain_ok || !local_ok {
            return Err("is not an e-mail address".into());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

/// Addresses are personal data: never print them by accident.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn valid_addresses_are_normalised() {
        assert_eq!(
            Email::parse("  Ada@Example.ORG ").unwrap().as_str(),
            "ada@example.org"
        );
        assert_eq!(
            Email::parse("a.b+c@uni-x.ac.uk").unwrap().local_part(),
            "a.b+c"
        );
    }

    #[test]
    fn invalid_addresses_are_rejected() {
        for bad in [
            "",
            "plain",
            "@x.org",
            "a@",
            "a@b",
            "a b@c.org",
            "a@b..org",
            "x'; DROP TABLE users;--@a.org",
            "a@b\u{7}.org",
            "a\nb@c.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_does_not_show_the_address() {
        assert!(!format!("{:?}", Email::parse("ada@example.org").unwrap()).contains("ada"));
    }
}
