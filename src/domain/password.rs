//! The password policy: length bounds, a bundled list of common passwords,
//! and no password that contains the account's e-mail local part.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::Email;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min_len: usize,
    pub max_len: usize,
}

impl PasswordPolicy {
    /// Returns why the password is refused, or `Ok` if it may be used.
    pub fn check(&self, password: &str, email: Option<&Email>) -> Result<(), String> {
        let len = password.chars().count();
        if len < self.min_len {
            return Err(format!("must be at least {} characters", self.min_len));
        }
        if len > self.max_len {
            return Err(format!("must be at most {} characters", self.max_len));
        }
        let lower = password.to_lowercase();
        if COMMON.contains(lower.as_str()) {
            return Err("is too common; choose a passphrase nobody else uses".into());
        }
        if let Some(email) = email {
            let local = email.local_part();
            if local.chars().count() >= 3 && lower.contains(local) {
                return Err("must not contain your e-mail address".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: PasswordPolicy = PasswordPolicy {
        min_len: 12,
        max_len: 128,
    };

    #[test]
    fn length_bounds_apply() {
        assert!(POLICY.check("short-pass", None).is_err());
        assert!(POLICY.check(&"x".repeat(129), None).is_err());
        assert!(POLICY.check("plenty long and odd 42", None).is_ok());
    }

    #[test]
    fn common_passwords_are_refused_case_insensitively() {
        assert!(POLICY.check("Password1234", None).is_err());
    }

    #[test]
    fn the_email_local_part_is_refused() {
        let email = Email::parse("marie.curie@sorbonne.fr").unwrap();
        assert!(POLICY.check("my-MARIE.CURIE-secret", Some(&email)).is_err());
        assert!(POLICY.check("radium and polonium", Some(&email)).is_ok());
    }
}
