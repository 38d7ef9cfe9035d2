//! The admins' read-only view of how this instance is configured: the
//! effective `[institution]` and mail (`[smtp]`) settings, secrets
//! redacted, each with the file key and environment variable that change
//! it. Values come from the same redacted rendering `colloquy config
//! check` prints, so a secret never reaches a page.

use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// One setting as the page shows it.
#[derive(Debug, Clone)]
pub struct SettingView {
    /// `[smtp] host`: the section and key in the configuration file.
    pub file_key: String,
    /// `COLLOQUY__SMTP__HOST`.
    pub env: String,
    /// The effective value ("[redacted]" for a secret that is set).
    pub value: String,
    /// What it does, in a sentence.
    pub meaning: &'static str,
}

/// A section of settings.
#[derive(Debug, Clone)]
pub struct SettingsSection {
    pub title: &'static str,
    pub settings: Vec<SettingView>,
}

/// The instance's settings, and the file they were read from.
#[derive(Debug, Clone)]
pub struct InstanceSettings {
    /// `None`: no file (defaults and the environment only).
    pub file: Option<String>,
    /// Mail is held in the outbox (no `[smtp] host`).
    pub mail_held: bool,
    pub sections: Vec<SettingsSection>,
}

/// (section, its title, [(key, what it does)]).
type Shown = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const SHOWN: &[Shown] = &[
    (
        "institution",
        "Institution",
        &[
            ("name", "Shown in page titles and the header, e-mails, the terms and invoices. Empty: \"Colloquy\" alone."),
            ("contact_email", "Where people write about the service and their data (terms, e-mails)."),
            ("jurisdiction", "The law the terms of use are given under."),
        ],
    ),
    (
        "smtp",
        "Mail",
        &[
            ("host", "The mail server. Empty: nothing is sent; every message is held in the admin mailbox."),
            ("port", "The mail server's port."),
            ("security", "none, starttls or tls."),
            ("username", "Empty: no authentication."),
            ("password", "The mail server password (never shown)."),
            ("from", "The sender of every message."),
            ("reply_to", "Where replies go; empty means the sender."),
            ("timeout_secs", "Per-connection timeout, in seconds."),
            ("max_attempts", "Tries for a temporary failure before a message is marked failed."),
            ("backoff_base_secs", "The first retry waits this long; each next one twice as long."),
        ],
    ),
];

fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub async fn settings(state: &AppState, who: &Principal) -> AppResult<InstanceSettings> {
    who.require_admin()?;
    let rendered: toml::Table = toml::from_str(&state.config.redacted_toml())
        .map_err(|e| AppError::internal(format!("reading the settings back: {e}")))?;
    let sections = SHOWN
        .iter()
        .map(|(section, title, keys)| SettingsSection {
            title,
            settings: keys
                .iter()
                .map(|(key, meaning)| SettingView {
                    file_key: format!("[{section}] {key}"),
                    env: format!(
                        "COLLOQUY__{}__{}",
                        section.to_uppercase(),
                        key.to_uppercase()
                    ),
                    value: rendered
                        .get(*section)
                        .and_then(|t| t.get(*key))
                        .map(shown)
                        .unwrap_or_default(),
                    meaning,
                })
                .collect(),
        })
        .collect();
    Ok(InstanceSettings {
        file: state
            .config
            .source
            .as_ref()
            .map(|p| p.display().to_string()),
        mail_held: crate::services::mail::delivery(state).is_held(),
        sections,
    })
}

#[cfg(test)]
mod tests {
    use super::SHOWN;

    /// Every key listed exists in the config, so the page never shows an
    /// empty value for a key that was renamed.
    #[test]
    fn every_listed_key_is_a_config_key() {
        let rendered: toml::Table =
            toml::from_str(&crate::config::Config::default().redacted_toml()).unwrap();
        for (section, _, keys) in SHOWN {
            for (key, _) in *keys {
                assert!(rendered[*section].get(*key).is_some(), "[{section}] {key}");
            }
        }
    }
}
