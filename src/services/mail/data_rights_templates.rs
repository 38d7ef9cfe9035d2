//! E-mails about a person's data rights: the Art. 14 notice that every
//! mail to a researcher who never signed up carries (collected data, not
//! given by them).

use askama::Template;

use super::templates::render;
use crate::config::Config;
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
