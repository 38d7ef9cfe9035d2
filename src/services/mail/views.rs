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
        }
    }
}
