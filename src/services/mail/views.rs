//! Outbox messages as the admin mailbox shows them.

use crate::db::repos::mail_outbox::MailRow;
use crate::domain::{MailId, MailStatus};

/// A message as the admin mailbox shows it.
#[derive(Debug, Clone)]
pub struct MailView {
    pub id: MailId,
    pub template: String,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub headers: Vec<(String, String)>,
    pub status: MailStatus,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// When retention removed the subject, text and HTML.
    pub content_removed_at: Option<String>,
}

impl MailView {
    /// What the message is, in words (from its template's name).
    pub fn kind(&self) -> &str {
        template_label(&self.template)
    }

    /// The plain text with its links picked out.
    pub fn text_parts(&self) -> Vec<TextPart> {
        text_parts(&self.text)
    }
}

impl From<MailRow> for MailView {
    fn from(m: MailRow) -> Self {
        Self {
            id: m.id,
            template: m.template,
            recipient: m.recipient,
            subject: m.content.subject,
            text: m.content.text,
            html: m.content.html,
            headers: m.content.headers,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
            content_removed_at: m.content_removed_at,
        }
    }
}

/// What a message is, in words, from its template's name (the mailbox's
/// "Kind" column and filter). An unknown name is shown as it is.
pub fn template_label(template: &str) -> &str {
    match template {
        "outreach_request" => "Invitation to a researcher",
        "interest_notice" => "Readers' interest, to a registered researcher",
        "registration_welcome" => "Welcome to a researcher who registered",
        "email_verification" => "E-mail address confirmation",
        "registration_attempt" => "Someone tried to register with this address",
        "session_request" => "Session request, to the researcher",
        "session_accepted" => "Session accepted",
        "session_declined" => "Session declined",
        "session_cancelled" => "Session cancelled",
        "session_expired" => "Session request expired",
        "session_payment_not_completed" => "Session request lapsed unpaid",
        "session_payment_reconfirm" => "Card hold lapsed: confirm the payment again",
        "session_reminder" => "Session reminder",
        "session_no_show" => "Missed session reported",
        "session_reschedule_proposed" => "New time proposed",
        "session_rescheduled" => "Session moved",
        "session_reschedule_rejected" => "New time declined",
        "subscription_payment_failed" => "Subscription payment failed",
        "review_published" => "New review, to the researcher",
        "review_approved" => "Held review published, to its author",
        "review_removed" => "Held review removed, to its author",
        "review_reminder" => "Reminder to review a session",
        "dispute_opened" => "Dispute opened, to the other participant",
        "dispute_message" => "New message in a dispute",
        "dispute_contested" => "No-show claim contested",
        "dispute_under_review" => "Dispute taken up by an admin",
        "dispute_resolved" => "Dispute resolved",
        "dispute_withdrawn" => "Dispute withdrawn",
        "test_message" => "Test message",
        "data_request_answer" => "Answer to a data request: what is held about the address",
        "listing_withdrawn" => "Profile hidden (listing consent withdrawn), with the open sessions",
        other => other,
    }
}

/// A piece of a plain-text mail: text, or a link the page makes clickable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextPart {
    Text(String),
    Link(String),
}

/// Splits plain text into text and `http(s)://` links, so the mailbox can
/// show links as links (askama escapes both; no HTML is built here).
pub fn text_parts(text: &str) -> Vec<TextPart> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        let len = rest[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(rest.len() - start);
        let mut url = &rest[start..start + len];
        // Sentence punctuation after a link is not part of it.
        url = url.trim_end_matches(['.', ',', ';', ':', ')', '!', '?', '\'']);
        if !rest[..start].is_empty() {
            parts.push(TextPart::Text(rest[..start].to_string()));
        }
        parts.push(TextPart::Link(url.to_string()));
        rest = &rest[start + url.len()..];
    }
    if !rest.is_empty() {
        parts.push(TextPart::Text(rest.to_string()));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_text_become_link_parts_without_trailing_punctuation() {
        let parts =
            text_parts("Open https://c.example/invite/a?b=1. Or opt out: http://x.example/o\nBye");
        assert_eq!(
            parts,
            vec![
                TextPart::Text("Open ".into()),
                TextPart::Link("https://c.example/invite/a?b=1".into()),
                TextPart::Text(". Or opt out: ".into()),
                TextPart::Link("http://x.example/o".into()),
                TextPart::Text("\nBye".into()),
            ]
        );
        assert_eq!(
            text_parts("no links"),
            vec![TextPart::Text("no links".into())]
        );
    }

    #[test]
    fn template_names_read_as_words() {
        assert_eq!(
            template_label("interest_notice"),
            "Readers' interest, to a registered researcher"
        );
        assert_eq!(template_label("something_new"), "something_new");
    }
}
