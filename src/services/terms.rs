//! The versioned terms of use. Raising `TERMS_VERSION` makes the new text
//! the one users accept from then on; each user row records the version
//! they accepted.

use crate::config::InstitutionConfig;

pub const TERMS_VERSION: &str = "2026-11-01";

/// The one check of a "I accept the terms" box.
pub fn check_accepted(accepted: bool) -> Result<(), String> {
    if accepted {
        Ok(())
    } else {
        Err(format!(
            "you must accept the terms (version {TERMS_VERSION})"
        ))
    }
}

pub struct Terms {
    pub version: &'static str,
    pub paragraphs: Vec<String>,
}

pub fn current(inst: &InstitutionConfig) -> Terms {
    // Without an institution name the sentences speak of the service itself.
    let (runs, stores) = match inst.display_name() {
        Some(name) => (
            format!("{name} runs this service to let readers of research papers book consulting sessions with the papers' authors."),
            format!("{name} stores your name, e-mail address and the data you enter."),
        ),
        None => (
            "This service lets readers of research papers book consulting sessions with the papers' authors.".to_string(),
            "The service stores your name, e-mail address and the data you enter.".to_string(),
        ),
    };
    Terms {
        version: TERMS_VERSION,
        paragraphs: vec![
            runs,
            "You keep your password secret and use the service only for genuine questions about research. Sessions are between you and the researcher; be courteous and on time.".into(),
            format!("{stores} E-mail addresses and free-text messages are encrypted at rest. We use them only to run the service and never sell them."),
            format!("You can ask for a copy of your data or its erasure at any time by writing to {}.", inst.contact_email),
            format!("These terms are governed by the law of {}.", inst.jurisdiction),
        ],
    }
}
