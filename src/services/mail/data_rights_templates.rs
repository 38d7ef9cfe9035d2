//! E-mails about a person's data rights: the Art. 14 notice that every
//! mail to a researcher who never signed up carries (collected data, not
//! given by them), and the answer to "is Colloquy holding data about me?".

use askama::Template;

use super::render::render;
use crate::config::{Brand, Config};
use crate::db::repos::mail_outbox::Content;
use crate::domain::researcher::source_label;
use crate::error::AppResult;

/// GDPR Art. 14: what a person whose data was not collected from them is
/// told at the first contact. Included in the invitation (see
/// `emails/art14_notice.{txt,html}`); docs/privacy.md carries the same
/// text (`notice_for_docs`).
pub struct Art14Notice {
    /// The institution (the controller), named.
    pub controller: String,
    pub contact_email: String,
    /// Where the profile's data came from, in words.
    pub sources: Vec<String>,
    /// `[retention] unclaimed_profiles_days` (0: kept until asked).
    pub retention_days: i64,
    /// The public "what do you hold about me?" form.
    pub request_url: String,
    pub opt_out_url: String,
}

impl Art14Notice {
    /// The notice for a profile whose fields came from `providers` (as
    /// recorded in their provenance), found on `paper_title` if known.
    pub fn new(
        config: &Config,
        providers: &[&str],
        paper_title: Option<&str>,
        opt_out_url: String,
    ) -> Self {
        let mut sources: Vec<String> = Vec::new();
        for p in providers {
            let label = match (*p, paper_title) {
                ("paper", Some(t)) => format!("the author list of your paper \u{201c}{t}\u{201d}"),
                (p, _) => source_label(p).to_string(),
            };
            if !sources.contains(&label) {
                sources.push(label);
            }
        }
        if sources.is_empty() {
            sources.push(source_label("").to_string());
        }
        Self {
            controller: controller(config),
            contact_email: config.institution.contact_email.clone(),
            sources,
            retention_days: config.retention.unclaimed_profiles_days,
            request_url: request_url(config),
            opt_out_url,
        }
    }
}

/// The controller as texts name it: the institution, or (no name set)
/// the institution that runs this service.
pub fn controller(config: &Config) -> String {
    match config.institution.display_name() {
        Some(n) => n.to_string(),
        None => format!(
            "the institution that runs this {} service",
            crate::config::institution::PRODUCT
        ),
    }
}

/// The public data-request form.
pub fn request_url(config: &Config) -> String {
    format!("{}/privacy/request", config.public_url())
}

#[derive(Template)]
#[template(path = "emails/art14_notice.txt")]
struct Art14NoticeText<'a> {
    n: &'a Art14Notice,
}

/// The notice as plain text, with placeholders where an instance puts its
/// own values (for docs/privacy.md; a test keeps the two the same).
pub fn notice_for_docs() -> AppResult<String> {
    let mut config = Config::default();
    config.institution.contact_email = "<[institution] contact_email>".into();
    let mut n = Art14Notice::new(
        &config,
        &["paper", "openalex", "firecrawl", "rocketreach", "tavily"],
        Some("<the paper>"),
        "<the opt-out link>".into(),
    );
    n.controller = "<[institution] name>".into();
    n.request_url = "<public URL>/privacy/request".into();
    render(&Art14NoticeText { n: &n })
}

/// One researcher profile held under the address, as the answer lists it.
pub struct ProfileHeld {
    pub name: String,
    /// Owned by an account (then it is that account's data).
    pub claimed: bool,
    /// What it holds and where each came from: (field, source), in words.
    pub fields: Vec<(String, String)>,
    /// Papers it is an author of (titles).
    pub papers: Vec<String>,
    pub invitations: i64,
    /// Where its public page is (none when it is not public).
    pub url: String,
}

/// The answer to a data request: what is held under an address, sent to
/// that address only.
pub struct DataRequestAnswer {
    pub institution: Brand,
    pub controller: String,
    pub contact_email: String,
    /// An account with this address: since when (a date).
    pub account_since: Option<String>,
    pub profiles: Vec<ProfileHeld>,
    /// The address is on the list of addresses we never invite.
    pub suppressed: bool,
    /// Messages sent to the address that are still kept.
    pub mails: i64,
    pub login_url: String,
    pub account_url: String,
    /// The privacy notice (what is held, why, how long).
    pub privacy_url: String,
}

impl DataRequestAnswer {
    pub fn holds_nothing(&self) -> bool {
        self.account_since.is_none()
            && self.profiles.is_empty()
            && !self.suppressed
            && self.mails == 0
    }
}

email_template!(
    DataRequestAnswer,
    DataRequestAnswerHtml,
    DataRequestAnswerText,
    "emails/data_request_answer.html",
    "emails/data_request_answer.txt"
);

pub fn data_request_answer(m: &DataRequestAnswer) -> AppResult<Content> {
    Ok(Content {
        subject: format!("What {} holds about this address", m.institution),
        text: render(&DataRequestAnswerText { m })?,
        html: render(&DataRequestAnswerHtml { m })?,
        headers: Vec::new(),
        attachments: Vec::new(),
    })
}
