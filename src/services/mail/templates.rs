//! E-mail templates: each renders as HTML and as plain text (askama), from
//! `templates/emails/<name>.html` and `.txt`.

use askama::Template;

use crate::config::Brand;
use crate::db::repos::mail_outbox::Content;
use crate::error::AppResult;

pub(super) use super::render::render;

/// Generates the HTML and text wrappers of a template whose data is `$data`.
macro_rules! email_template {
    ($data:ident, $html:ident, $text:ident, $html_path:literal, $text_path:literal) => {
        #[derive(Template)]
        #[template(path = $html_path)]
        struct $html<'a> {
            m: &'a $data,
        }

        #[derive(Template)]
        #[template(path = $text_path)]
        struct $text<'a> {
            m: &'a $data,
        }
    };
}

/// An invitation to a researcher whose paper readers want to discuss.
pub struct OutreachRequest {
    pub institution: Brand,
    pub researcher_name: String,
    pub paper_title: Option<String>,
    /// Readers waiting to consult this researcher (including this one).
    pub readers_waiting: i64,
    /// The reader's own words, if any.
    pub reader_message: Option<String>,
    /// The single-use registration link.
    pub register_url: String,
    /// The one-click opt-out link.
    pub opt_out_url: String,
    /// Where the address came from, e.g. "your profile page at https://…".
    pub address_source: String,
    pub contact_email: String,
    /// How long the registration link works.
    pub link_valid_days: i64,
    /// What a person whose data was collected must be told (Art. 14).
    pub notice: super::data_rights_templates::Art14Notice,
}

email_template!(
    OutreachRequest,
    OutreachRequestHtml,
    OutreachRequestText,
    "emails/outreach_request.html",
    "emails/outreach_request.txt"
);

pub fn outreach_request(m: &OutreachRequest) -> AppResult<Content> {
    let subject = match &m.paper_title {
        Some(t) => format!("Readers of \"{}\" would like to talk with you", clip(t, 80)),
        None => match m.institution.name() {
            Some(n) => format!("Readers at {n} would like to talk with you"),
            None => "Readers on Colloquy would like to talk with you".to_string(),
        },
    };
    Ok(Content {
        subject,
        text: render(&OutreachRequestText { m })?,
        html: render(&OutreachRequestHtml { m })?,
        headers: vec![
            ("List-Unsubscribe".into(), format!("<{}>", m.opt_out_url)),
            (
                "List-Unsubscribe-Post".into(),
                "List-Unsubscribe=One-Click".into(),
            ),
        ],
        attachments: Vec::new(),
    })
}

/// A reader asks a researcher for a session (used by the sessions issue).
pub struct SessionRequest {
    pub institution: Brand,
    pub researcher_name: String,
    pub reader_name: String,
    pub topic: String,
    pub paper_title: Option<String>,
    /// The start in the researcher's time zone, e.g. "Tue 3 March 2026, 14:00 CET".
    pub start_local: String,
    pub timezone: String,
    /// The start in the reader's zone, where it differs, with its name.
    pub reader_when: Option<String>,
    pub duration_minutes: i64,
    /// "free", or the price with its currency, e.g. "EUR 40.00".
    pub price: String,
    pub accept_url: String,
    pub decline_url: String,
    pub session_url: String,
    /// When the request expires unanswered, in the researcher's zone.
    pub expires_local: String,
}

email_template!(
    SessionRequest,
    SessionRequestHtml,
    SessionRequestText,
    "emails/session_request.html",
    "emails/session_request.txt"
);

pub fn session_request(m: &SessionRequest) -> AppResult<Content> {
    Ok(Content {
        subject: format!(
            "Session request from {}: {}",
            m.reader_name,
            clip(&m.topic, 60)
        ),
        text: render(&SessionRequestText { m })?,
        html: render(&SessionRequestHtml { m })?,
        headers: Vec::new(),
        attachments: Vec::new(),
    })
}

/// Anything that happens to a booked session (accepted, declined,
/// cancelled, moved, reminders…), told to one participant.
pub struct SessionNotice {
    pub institution: Brand,
    /// Who the message is for.
    pub name: String,
    pub headline: String,
    pub lines: Vec<String>,
    pub other_party: String,
    pub topic: String,
    /// The start in the recipient's time zone.
    pub when_local: String,
    pub timezone: String,
    /// The start in the other participant's zone, where it differs, with
    /// its name.
    pub other_when: Option<String>,
    pub duration_minutes: i64,
    pub meeting_url: Option<String>,
    pub meeting_password: Option<String>,
    /// A button: (label, url).
    pub action: Option<(String, String)>,
    pub session_url: String,
}

email_template!(
    SessionNotice,
    SessionNoticeHtml,
    SessionNoticeText,
    "emails/session_notice.html",
    "emails/session_notice.txt"
);

pub fn session_notice(
    subject: String,
    m: &SessionNotice,
    attachments: Vec<crate::db::repos::mail_outbox::Attachment>,
) -> AppResult<Content> {
    Ok(Content {
        subject,
        text: render(&SessionNoticeText { m })?,
        html: render(&SessionNoticeHtml { m })?,
        headers: Vec::new(),
        attachments,
    })
}

/// A short notice with one action: payments (a failed renewal), reviews
/// and disputes.
pub struct Notice {
    pub institution: Brand,
    pub name: String,
    pub headline: String,
    pub lines: Vec<String>,
    pub action_label: String,
    pub action_url: String,
}

email_template!(
    Notice,
    NoticeHtml,
    NoticeText,
    "emails/notice.html",
    "emails/notice.txt"
);

pub fn notice(subject: String, m: &Notice) -> AppResult<Content> {
    Ok(Content {
        subject,
        text: render(&NoticeText { m })?,
        html: render(&NoticeHtml { m })?,
        headers: Vec::new(),
        attachments: Vec::new(),
    })
}

/// Sent when a researcher has registered.
pub struct RegistrationWelcome {
    pub institution: Brand,
    pub name: String,
    pub profile_url: String,
    pub availability_url: String,
    pub contact_email: String,
}

email_template!(
    RegistrationWelcome,
    RegistrationWelcomeHtml,
    RegistrationWelcomeText,
    "emails/registration_welcome.html",
    "emails/registration_welcome.txt"
);

pub fn registration_welcome(m: &RegistrationWelcome) -> AppResult<Content> {
    Ok(Content {
        subject: format!("Welcome to {}", m.institution),
        text: render(&RegistrationWelcomeText { m })?,
        html: render(&RegistrationWelcomeHtml { m })?,
        headers: Vec::new(),
        attachments: Vec::new(),
    })
}

/// Tells a registered researcher that readers want to consult them.
pub struct InterestNotice {
    pub institution: Brand,
    pub name: String,
    pub readers_waiting: i64,
    pub profile_url: String,
}

email_template!(
    InterestNotice,
    InterestNoticeHtml,
    InterestNoticeText,
    "emails/interest_notice.html",
    "emails/interest_notice.txt"
);

pub fn interest_notice(m: &InterestNotice) -> AppResult<Content> {
    Ok(Content {
        subject: format!("{}: readers would like to consult you", m.institution),
        text: render(&InterestNoticeText { m })?,
        html: render(&InterestNoticeHtml { m })?,
        headers: Vec::new(),
        attachments: Vec::new(),
    })
}

/// The data of the test message.
pub struct TestMessage {
    pub institution: Brand,
    pub smtp_enabled: bool,
}

email_template!(
    TestMessage,
    TestMessageHtml,
    TestMessageText,
    "emails/test_message.html",
    "emails/test_message.txt"
);

/// "Does mail work?", sent from the admin mailbox.
pub fn test_message(institution: Brand, smtp_enabled: bool) -> AppResult<Content> {
    let subject = format!("{institution}: test message");
    let m = TestMessage {
        institution,
        smtp_enabled,
    };
    Ok(Content {
        subject,
        text: render(&TestMessageText { m: &m })?,
        html: render(&TestMessageHtml { m: &m })?,
        headers: Vec::new(),
        attachments: Vec::new(),
    })
}

pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
