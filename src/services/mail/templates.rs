//! E-mail templates: each renders as HTML and as plain text (askama), from
//! `templates/emails/<name>.html` and `.txt`.

use askama::Template;

use crate::db::repos::mail_outbox::Content;
use crate::error::{AppError, AppResult};

pub(super) fn render(t: &impl Template) -> AppResult<String> {
    t.render()
        .map_err(|e| AppError::internal(format!("rendering an e-mail: {e}")))
}

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
    pub institution: String,
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
        None => format!("Readers at {} would like to talk with you", m.institution),
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
    pub institution: String,
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
    pub institution: String,
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

/// About the reader's subscription or payments (e.g. a failed renewal).
pub struct BillingNotice {
    pub institution: String,
    pub name: String,
    pub headline: String,
    pub lines: Vec<String>,
    pub action_label: String,
    pub action_url: String,
}

email_template!(
    BillingNotice,
    BillingNoticeHtml,
    BillingNoticeText,
    "emails/billing_notice.html",
    "emails/billing_notice.txt"
);

pub fn billing_notice(subject: String, m: &BillingNotice) -> AppResult<Content> {
    Ok(Content {
        subject,
        text: render(&BillingNoticeText { m })?,
        html: render(&BillingNoticeHtml { m })?,
        headers: Vec::new(),
        attachments: Vec::new(),
    })
}

/// Sent when a researcher has registered.
pub struct RegistrationWelcome {
    pub institution: String,
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
    pub institution: String,
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
    pub institution: String,
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
pub fn test_message(institution: &str, smtp_enabled: bool) -> AppResult<Content> {
    let m = TestMessage {
        institution: institution.to_string(),
        smtp_enabled,
    };
    Ok(Content {
        subject: format!("{institution}: test message"),
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
mod tests {
    use super::*;

    fn outreach() -> OutreachRequest {
        OutreachRequest {
            institution: "Uni Bonn".into(),
            researcher_name: "Ada <Lovelace>".into(),
            paper_title: Some("Notes on the Analytical Engine".into()),
            readers_waiting: 3,
            reader_message: Some("How did you think about loops?".into()),
            register_url: "https://colloquy.uni.example/invite/abc".into(),
            opt_out_url: "https://colloquy.uni.example/opt-out/xyz".into(),
            address_source: "your profile page at https://uni.example/ada".into(),
            contact_email: "privacy@uni.example".into(),
            link_valid_days: 14,
        }
    }

    #[test]
    fn the_outreach_request_names_the_paper_the_readers_the_source_and_the_opt_out() {
        let c = outreach_request(&outreach()).unwrap();
        assert_eq!(
            c.subject,
            "Readers of \"Notes on the Analytical Engine\" would like to talk with you"
        );
        for part in [&c.text, &c.html] {
            for needle in [
                "Notes on the Analytical Engine",
                "3 readers",
                "How did you think about loops?",
                "https://colloquy.uni.example/invite/abc",
                "https://colloquy.uni.example/opt-out/xyz",
                "your profile page at https://uni.example/ada",
                "privacy@uni.example",
                "14 days",
            ] {
                assert!(part.contains(needle), "{needle} missing from {part}");
            }
        }
        assert!(
            c.text.contains("Ada <Lovelace>") && !c.html.contains("Ada <Lovelace>"),
            "HTML is escaped"
        );
        assert_eq!(
            c.headers[0],
            (
                "List-Unsubscribe".to_string(),
                "<https://colloquy.uni.example/opt-out/xyz>".to_string()
            )
        );
        assert_eq!(
            c.headers[1],
            (
                "List-Unsubscribe-Post".to_string(),
                "List-Unsubscribe=One-Click".to_string()
            )
        );
    }

    #[test]
    fn the_session_request_has_everything_the_researcher_needs_to_answer() {
        let m = SessionRequest {
            institution: "Uni Bonn".into(),
            researcher_name: "Ada Lovelace".into(),
            reader_name: "Grace Hopper".into(),
            topic: "Compilers for the Analytical Engine".into(),
            paper_title: Some("Notes".into()),
            start_local: "Tue 3 March 2026, 14:00 CET".into(),
            timezone: "Europe/Berlin".into(),
            reader_when: Some("Tue 3 March 2026, 08:00 EST (America/New_York)".into()),
            duration_minutes: 60,
            price: "EUR 40.00".into(),
            accept_url: "https://c.example/s/1/accept".into(),
            decline_url: "https://c.example/s/1/decline".into(),
            session_url: "https://c.example/s/1".into(),
            expires_local: "Mon 2 March 2026, 14:00 CET".into(),
        };
        let c = session_request(&m).unwrap();
        assert!(c.subject.starts_with("Session request from Grace Hopper"));
        for part in [&c.text, &c.html] {
            for needle in [
                "Grace Hopper",
                "Compilers for the Analytical Engine",
                "Tue 3 March 2026, 14:00 CET (Europe/Berlin)",
                "For Grace Hopper",
                "08:00 EST (America/New_York)",
                "60 minutes",
                "EUR 40.00",
                "https://c.example/s/1/accept",
                "https://c.example/s/1/decline",
                "Mon 2 March 2026, 14:00 CET",
            ] {
                assert!(part.contains(needle), "{needle} missing from {part}");
            }
        }
    }

    #[test]
    fn the_interest_notice_counts_the_readers() {
        let c = interest_notice(&InterestNotice {
            institution: "Uni Bonn".into(),
            name: "Ada".into(),
            readers_waiting: 4,
            profile_url: "https://c.example/researchers/7".into(),
        })
        .unwrap();
        for part in [&c.text, &c.html] {
            assert!(
                part.contains("4 readers") && part.contains("https://c.example/researchers/7"),
                "{part}"
            );
        }
    }

    #[test]
    fn the_registration_welcome_links_the_profile_and_availability() {
        let m = RegistrationWelcome {
            institution: "Uni Bonn".into(),
            name: "Ada Lovelace".into(),
            profile_url: "https://c.example/researchers/7".into(),
            availability_url: "https://c.example/account/availability".into(),
            contact_email: "help@uni.example".into(),
        };
        let c = registration_welcome(&m).unwrap();
        assert_eq!(c.subject, "Welcome to Uni Bonn");
        for part in [&c.text, &c.html] {
            for needle in [
                "Ada Lovelace",
                "https://c.example/researchers/7",
                "https://c.example/account/availability",
                "help@uni.example",
            ] {
                assert!(part.contains(needle), "{needle} missing from {part}");
            }
        }
    }

    #[test]
    fn the_test_message_renders_both_parts_and_escapes_html() {
        let c = test_message("Uni <Bonn>", true).unwrap();
        assert_eq!(c.subject, "Uni <Bonn>: test message");
        assert!(c.text.contains("Uni <Bonn>") && c.text.contains("SMTP settings work"));
        assert!(
            c.html.contains("Uni &#60;Bonn&#62;") || c.html.contains("Uni &lt;Bonn&gt;"),
            "{}",
            c.html
        );
        assert!(!c.html.contains("<Bonn>"));
    }
}
