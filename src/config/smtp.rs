//! `[smtp]`: how mail leaves the outbox. With no `host`, nothing is sent:
//! messages are kept as `held` and can be read in the admin mailbox.

use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on localhost, or tests).
    None,
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// The SMTP server. Empty: mail is held in the outbox, not sent.
    pub host: String,
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub security: SmtpSecurity,
    /// Empty: no authentication.
    pub username: String,
    pub password: Secret,
    /// The sender, e.g. `Colloquy <colloquy@uni.example>`.
    pub from: String,
    /// Where replies go; empty means the sender.
    pub reply_to: String,
    /// The longest one delivery may take, connecting included.
    pub timeout_secs: u64,
    /// Tries for temporary failures (SMTP 4xx, network errors, timeouts)
    /// before a message is marked failed; 5xx fails it at once.
    pub max_attempts: u32,
    /// The first retry waits this long; each next one twice as long.
    pub backoff_base_secs: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: String::new(),
            password: Secret::default(),
            from: "Colloquy <colloquy@localhost>".into(),
            reply_to: String::new(),
            timeout_secs: 20,
            max_attempts: 6,
            backoff_base_secs: 60,
        }
    }
}

impl SmtpConfig {
    /// The bare address of `from` (without the display name).
    pub fn from_address(&self) -> &str {
        let f = self.from.trim();
        match (f.rfind('<'), f.rfind('>')) {
            (Some(a), Some(b)) if a < b => &f[a + 1..b],
            _ => f,
        }
    }

    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!(
                "smtp.from `{}` is not an address like `Colloquy <colloquy@uni.example>`",
                self.from
            ));
        }
        if !self.reply_to.is_empty() && self.reply_to.parse::<lettre::message::Mailbox>().is_err() {
            return Err("smtp.reply_to is not an e-mail address".into());
        }
        if self.max_attempts == 0 || self.timeout_secs == 0 {
            return Err("smtp.max_attempts and smtp.timeout_secs must be at least 1".into());
        }
        Ok(())
    }
}
