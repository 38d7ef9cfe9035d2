//! E-mails about an account itself: confirm your address, and "someone
//! tried to register with your address".

use askama::Template;

use super::templates::render;
use crate::config::Brand;
use crate::db::repos::mail_outbox::Content;
use crate::error::AppResult;

/// The link that proves an account owns its address.
pub struct EmailVerification {
    pub institution: Brand,
    pub name: String,
    pub verify_url: String,
    pub valid_hours: i64,
    pub contact_email: String,
}

email_template!(
    EmailVerification,
    EmailVerificationHtml,
    EmailVerificationText,
    "emails/email_verification.html",
    "emails/email_verification.txt"
);

pub fn email_verification(m: &EmailVerification) -> AppResult<Content> {
    Ok(Content {
        subject: format!("Confirm your e-mail address for {}", m.institution),
        text: render(&EmailVerificationText { m })?,
        html: render(&EmailVerificationHtml { m })?,
        headers: Vec::new(),
        attachments: Vec::new(),
    })
}

/// Sent to the owner of an address that someone tried to register again.
pub struct RegistrationAttempt {
    pub institution: Brand,
    pub name: String,
    pub login_url: String,
    pub contact_email: String,
    /// For an account still waiting for its address to be confirmed: when
    /// it can be registered anew, in words.
    pub unconfirmed_until: Option<String>,
}

email_template!(
    RegistrationAttempt,
    RegistrationAttemptHtml,
    RegistrationAttemptText,
    "emails/registration_attempt.html",
    "emails/registration_attempt.txt"
);

pub fn registration_attempt(m: &RegistrationAttempt) -> AppResult<Content> {
    Ok(Content {
        subject: format!(
            "Someone tried to register at {} with your address",
            m.institution
        ),
        text: render(&RegistrationAttemptText { m })?,
        html: render(&RegistrationAttemptHtml { m })?,
        headers: Vec::new(),
        attachments: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verification_mail_carries_the_link_in_both_parts() {
        let c = email_verification(&EmailVerification {
            institution: Brand::new("Uni Bonn"),
            name: "Ada <Lovelace>".into(),
            verify_url: "https://colloquy.uni.example/verify-email/abc".into(),
            valid_hours: 48,
            contact_email: "privacy@uni.example".into(),
        })
        .unwrap();
        assert!(c
            .text
            .contains("https://colloquy.uni.example/verify-email/abc"));
        assert!(c
            .html
            .contains(r#"href="https://colloquy.uni.example/verify-email/abc""#));
        assert!(
            c.html.contains("Ada &#60;Lovelace&#62;") || c.html.contains("Ada &lt;Lovelace&gt;")
        );
        assert!(c.text.contains("48 hours"));
    }

    #[test]
    fn the_attempt_mail_changes_nothing_and_says_so() {
        let c = registration_attempt(&RegistrationAttempt {
            institution: Brand::new("Uni Bonn"),
            name: "Ada".into(),
            login_url: "https://colloquy.uni.example/login".into(),
            contact_email: "privacy@uni.example".into(),
            unconfirmed_until: None,
        })
        .unwrap();
        assert!(c.text.contains("Nothing was changed"));
        assert!(c.text.contains("https://colloquy.uni.example/login"));
        assert!(!c.text.contains("verify-email"));
    }
}
