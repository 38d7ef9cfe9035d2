//! E-mails about a dispute of a session: opened, answered, contested,
//! taken up by an admin, resolved or withdrawn. One template for all of
//! them; the disputes service words each event. The participants' own
//! words (descriptions, messages) are never put in a mail: the dispute
//! page shows them to those who may read them. An admin's resolution note
//! is.

use askama::Template;

use super::templates::render;
use crate::config::Brand;
use crate::db::repos::mail_outbox::Content;
use crate::error::AppResult;

/// Something that happened to a dispute, told to one participant.
pub struct DisputeNotice {
    pub institution: Brand,
    /// Who the message is for.
    pub name: String,
    pub headline: String,
    pub lines: Vec<String>,
    /// The other participant of the session.
    pub other_party: String,
    /// The session's start in the recipient's zone.
    pub when_local: String,
    /// What the dispute is about, in words.
    pub kind: String,
    pub dispute_url: String,
}

email_template!(
    DisputeNotice,
    DisputeNoticeHtml,
    DisputeNoticeText,
    "emails/dispute_notice.html",
    "emails/dispute_notice.txt"
);

pub fn dispute_notice(subject: String, m: &DisputeNotice) -> AppResult<Content> {
    Ok(Content {
        subject,
        text: render(&DisputeNoticeText { m })?,
        html: render(&DisputeNoticeHtml { m })?,
        headers: Vec::new(),
        attachments: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_names_the_session_and_links_the_dispute_escaped_in_html() {
        let m = DisputeNotice {
            institution: Brand::new("Uni Bonn"),
            name: "Ada <Lovelace>".into(),
            headline: "The reader reports that you did not come.".into(),
            lines: vec!["Contest it by Wed 9 December 2026, 10:00 CET.".into()],
            other_party: "Grace Hopper".into(),
            when_local: "Tue 8 December 2026, 10:00 CET".into(),
            kind: "no-show claim".into(),
            dispute_url: "https://c.example/disputes/7".into(),
        };
        let c = dispute_notice("A dispute".into(), &m).unwrap();
        for part in [&c.text, &c.html] {
            for needle in [
                "did not come",
                "Contest it by",
                "Grace Hopper",
                "Tue 8 December 2026",
                "no-show claim",
                "https://c.example/disputes/7",
            ] {
                assert!(part.contains(needle), "{needle} missing from {part}");
            }
        }
        assert!(c.text.contains("Ada <Lovelace>") && !c.html.contains("Ada <Lovelace>"));
    }
}
