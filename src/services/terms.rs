//! The versioned terms of use and privacy notice. Both are written from
//! `[institution]`; their versions come from `[institution] terms_version`
//! and `privacy_version`. Each version's text is stored when it first
//! becomes current (`publish_current`, at start), so `/terms/{version}`
//! shows what people accepted even after the config changes. An account
//! whose accepted versions are not the current ones is `pending` and must
//! accept before anything else (the HTTP layer's terms gate).

use chrono::{DateTime, Utc};

use crate::config::InstitutionConfig;
use crate::db::repos::consents;
use crate::db::repos::consents::Accepted;
use crate::domain::{ConsentSource, LegalDocument};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The one check of an "I accept the terms" box.
pub fn check_accepted(inst: &InstitutionConfig, accepted: bool) -> Result<(), String> {
    if accepted {
        Ok(())
    } else {
        Err(format!(
            "you must accept the terms of use (version {}) and the privacy notice (version {})",
            inst.terms_version, inst.privacy_version
        ))
    }
}

/// A document at one version.
pub struct Terms {
    pub document: LegalDocument,
    pub version: String,
    pub paragraphs: Vec<String>,
    /// When this version first became current (`None`: not yet stored).
    pub since: Option<DateTime<Utc>>,
}

/// The current version of a document.
pub fn version_of(inst: &InstitutionConfig, document: LegalDocument) -> &str {
    match document {
        LegalDocument::Terms => &inst.terms_version,
        LegalDocument::PrivacyNotice => &inst.privacy_version,
    }
}

/// The current versions, as a registration accepts them.
pub fn accepted_now(inst: &InstitutionConfig, source: ConsentSource) -> Accepted<'_> {
    Accepted {
        terms: &inst.terms_version,
        privacy: &inst.privacy_version,
        source,
    }
}

/// The current terms of use, written from `[institution]`.
pub fn current(inst: &InstitutionConfig) -> Terms {
    render(inst, LegalDocument::Terms)
}

/// The current text of a document.
pub fn render(inst: &InstitutionConfig, document: LegalDocument) -> Terms {
    let paragraphs = match document {
        LegalDocument::Terms => terms_paragraphs(inst),
        LegalDocument::PrivacyNotice => privacy_paragraphs(inst),
    };
    Terms {
        document,
        version: version_of(inst, document).to_string(),
        paragraphs,
        since: None,
    }
}

fn terms_paragraphs(inst: &InstitutionConfig) -> Vec<String> {
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
    vec![
        runs,
        "You keep your password secret and use the service only for genuine questions about research. Sessions are between you and the researcher; be courteous and on time.".into(),
        format!("{stores} E-mail addresses and free-text messages are encrypted at rest. We use them only to run the service and never sell them."),
        format!("You can ask for a copy of your data or its erasure at any time by writing to {}.", inst.contact_email),
        format!("These terms are governed by the law of {}.", inst.jurisdiction),
    ]
}

fn privacy_paragraphs(inst: &InstitutionConfig) -> Vec<String> {
    let controller = match inst.display_name() {
        Some(name) => format!("{name} is the controller of the personal data this service processes. Write to {} about anything in this notice.", inst.contact_email),
        None => format!("The institution running this service is the controller of the personal data it processes. Write to {} about anything in this notice.", inst.contact_email),
    };
    vec![
        controller,
        "What we process: your account (name, e-mail address, password hash, time zone), the sessions you book or hold with their messages and meeting details, payments and invoices, reviews, disputes, your reading progress and questions, and the consents you give. For researchers who never signed up, we collect a public profile (name, affiliation, publications, a work e-mail address) from OpenAlex and the web to invite them.".into(),
        "Why, and on what basis: to run the service you signed up for (contract), to keep invoices and the payment ledger as the law requires (legal obligation), to keep the service safe with an audit trail (legitimate interest), and to list your researcher profile and send you reminders and product e-mail only while you agree (consent). You can withdraw a consent on your account page at any time; it does not affect what was done before.".into(),
        "E-mail addresses, messages and meeting details are encrypted at rest. Payments go through Stripe and video meetings through the configured video service; they receive only what they need.".into(),
        "How long: account data while the account exists; invoices and the ledger for the period the law of the place of business requires; mail bodies, provider answers and old analytics counters are deleted on a schedule.".into(),
        format!("Your rights: access, a copy in a portable format, correction, erasure, restriction and objection. Write to {}; you may also complain to a data-protection supervisory authority in {}.", inst.contact_email, inst.jurisdiction),
    ]
}

/// The current version of each document an account has not accepted
/// (`terms`, `privacy_notice`), given the versions it did accept.
pub fn pending(
    inst: &InstitutionConfig,
    terms: Option<&str>,
    privacy: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if terms != Some(inst.terms_version.as_str()) {
        out.push((LegalDocument::Terms.as_str(), inst.terms_version.clone()));
    }
    if privacy != Some(inst.privacy_version.as_str()) {
        out.push((
            LegalDocument::PrivacyNotice.as_str(),
            inst.privacy_version.clone(),
        ));
    }
    out
}

/// `terms_not_accepted` unless nothing is pending.
pub fn require_accepted(
    inst: &InstitutionConfig,
    terms: Option<&str>,
    privacy: Option<&str>,
) -> AppResult<()> {
    let pending = pending(inst, terms, privacy);
    if pending.is_empty() {
        Ok(())
    } else {
        Err(AppError::TermsNotAccepted { pending })
    }
}

/// Stores the current text of both documents under their versions, unless
/// a version is stored already (then its first text stays).
pub async fn publish_current(state: &AppState) -> AppResult<()> {
    let texts: Vec<Terms> = LegalDocument::ALL
        .iter()
        .map(|d| render(&state.config.institution, *d))
        .collect();
    let now = state.now();
    state
        .db
        .write(move |tx| {
            for t in &texts {
                if consents::publish_text(tx, t.document, &t.version, &t.paragraphs, now)? {
                    tracing::info!(document = t.document.as_str(), version = %t.version, "legal text published");
                }
            }
            Ok(())
        })
        .await
}

/// A document at a version, as it read when that version became current;
/// `None` for a version never published.
pub async fn published(
    state: &AppState,
    document: LegalDocument,
    version: &str,
) -> AppResult<Option<Terms>> {
    let v = version.to_string();
    let found = state
        .db
        .read(move |c| consents::find_text(c, document, &v))
        .await?;
    Ok(found.map(|(paragraphs, since)| Terms {
        document,
        version: version.to_string(),
        paragraphs,
        since: Some(since),
    }))
}

/// The current version of a document, as stored (the rendering when it
/// has not been stored, which `publish_current` at start prevents).
pub async fn current_published(state: &AppState, document: LegalDocument) -> AppResult<Terms> {
    let version = version_of(&state.config.institution, document).to_string();
    Ok(match published(state, document, &version).await? {
        Some(t) => t,
        None => render(&state.config.institution, document),
    })
}

/// Earlier versions of a document, newest first (version, since).
pub async fn history(
    state: &AppState,
    document: LegalDocument,
) -> AppResult<Vec<(String, DateTime<Utc>)>> {
    state
        .db
        .read(move |c| consents::versions(c, document))
        .await
}
