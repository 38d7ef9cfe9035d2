//! The admin mailbox: every message in the outbox, by status and template,
//! each readable; retry a failed or held one; send a test message.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::{CsrfOnly, PageForm};
use super::form_errors::FormErrors;
use super::outcome::flash_outcome;
use super::PageError;
use crate::domain::{MailId, MailStatus};
use crate::http::extractors::{AppPath, ClientIp};
use crate::pagination::PageParams;
use crate::services::mail;
use crate::services::mail::{MailView, TextPart};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_mail.html")]
pub struct MailboxPage {
    pub layout: Layout,
    /// Whether mail leaves the outbox (an SMTP server is configured).
    pub sends: bool,
    pub messages: Vec<MailView>,
    pub counts: Vec<(MailStatus, i64)>,
    pub templates: Vec<String>,
    /// The filter's choices, and the one chosen (as given).
    pub statuses: &'static [MailStatus],
    pub status: String,
    pub template: String,
    pub next: Option<String>,
    /// The test message form as typed, after a failure.
    pub to: String,
    pub errors: FormErrors,
}

impl MailboxPage {
    /// A template's name in words, for the filter.
    pub fn kind<'a>(&self, template: &'a str) -> &'a str {
        mail::template_label(template)
    }
}

#[derive(Template)]
#[template(path = "pages/admin_mail_message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub m: MailView,
    pub sends: bool,
}

#[derive(Deserialize, Default)]
pub struct MailboxQuery {
    pub status: Option<String>,
    pub template: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Deserialize)]
pub struct TestForm {
    pub csrf_token: String,
    pub to: String,
}

pub async fn mailbox_get(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<MailboxQuery>,
) -> Result<Response, PageError> {
    let page = mailbox_page(&state, &viewer, q, String::new(), FormErrors::default());
    Ok(render(&page.await?))
}

async fn mailbox_page(
    state: &AppState,
    viewer: &Viewer,
    q: MailboxQuery,
    to: String,
    errors: FormErrors,
) -> Result<MailboxPage, PageError> {
    let who = viewer.require_admin("/admin/mail")?;
    let status = q.status.filter(|s| !s.is_empty());
    let template = q.template.filter(|s| !s.is_empty());
    let page = mail::list(
        state,
        &who,
        status.clone(),
        template.clone(),
        &PageParams {
            limit: Some(50),
            cursor: q.cursor,
        },
    )
    .await?;
    let (counts, templates) = mail::summary(state, &who).await?;
    let (status, template) = (status.unwrap_or_default(), template.unwrap_or_default());
    let next = page.next_cursor.map(|c| {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("status", &status)
            .append_pair("template", &template)
            .append_pair("cursor", &c)
            .finish();
        format!("/admin/mail?{query}")
    });
    Ok(MailboxPage {
        layout: viewer.layout("Mailbox"),
        sends: mail::sender::sends(state),
        messages: page.items,
        counts,
        templates,
        statuses: MailStatus::ALL,
        status,
        template,
        next,
        to,
        errors,
    })
}

pub async fn message_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<MailId>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/mail")?;
    let m = mail::get(&state, &who, id).await?;
    Ok(render(&MessagePage {
        layout: viewer.layout(m.subject.clone()),
        m,
        sends: mail::sender::sends(&state),
    }))
}

pub async fn retry_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<MailId>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/mail")?;
    viewer.check_csrf(&f.csrf_token)?;
    let to = format!("/admin/mail/{id}");
    let r = mail::retry(&state, &who, id, ip).await;
    flash_outcome(
        &state,
        &to,
        r.map(|_| "The message will be sent again shortly."),
    )
}

pub async fn test_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<TestForm>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/mail")?;
    viewer.check_csrf(&f.csrf_token)?;
    match mail::send_test(&state, &who, &f.to, ip).await {
        Ok(id) => Ok(redirect_with_flash(
            &state,
            &format!("/admin/mail/{id}"),
            "success",
            "The test message is in the outbox.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error("test", e, &[("to", "The address")])?;
            let q = MailboxQuery::default();
            let page = mailbox_page(&state, &viewer, q, f.to, errors).await?;
            Ok(page.errors.respond(&page))
        }
    }
}
