//! E-mail templates: each renders as HTML and as plain text (askama), from
//! `templates/emails/<name>.html` and `.txt`.

use askama::Template;

use crate::db::repos::mail_outbox::Content;
use crate::error::{AppError, AppResult};

fn render(t: &impl Template) -> AppResult<String> {
    t.render()
        .map_err(|e| AppError::internal(format!("rendering an e-mail: {e}")))
}

/// The data of the test message.
pub struct TestMessage<'a> {
    pub institution: &'a str,
    pub smtp_enabled: bool,
}

#[derive(Template)]
#[template(path = "emails/test_message.html")]
struct TestMessageHtml<'a> {
    m: &'a TestMessage<'a>,
}

#[derive(Template)]
#[template(path = "emails/test_message.txt")]
struct TestMessageText<'a> {
    m: &'a TestMessage<'a>,
}

/// "Does mail work?", sent from the admin mailbox.
pub fn test_message(institution: &str, smtp_enabled: bool) -> AppResult<Content> {
    let m = TestMessage {
        institution,
        smtp_enabled,
    };
    Ok(Content {
        subject: format!("{institution}: test message"),
        text: render(&TestMessageText { m: &m })?,
        html: render(&TestMessageHtml { m: &m })?,
        headers: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
