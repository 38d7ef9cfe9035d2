//! Mail: every message is a row in the outbox first (`queued`, or `held`
//! when no SMTP server is configured); the sender delivers due rows.
//! Addresses never appear in logs.

mod render;
pub mod sender;
#[macro_use]
pub mod templates;
pub mod account_templates;
pub mod data_rights_templates;
mod views;

pub use views::{template_label, text_parts, MailView, TextPart};

use std::net::IpAddr;

use serde_json::json;

use crate::db::repos::audit;
use crate::db::repos::mail_outbox::{self, Content};

use crate::domain::{Email, MailId, MailStatus};
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageParams};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// Tells the layer that queued a message whether it went out (`true`) or
/// failed for good, inside the transaction that records it. Outreach
/// registers one (its invitations' history), through `AppState::hooks`, so
/// mail never imports the services above it.
pub type DeliveredHook =
    fn(&rusqlite::Connection, MailId, bool, chrono::DateTime<chrono::Utc>) -> AppResult<()>;

/// A message ready for the outbox.
pub struct Outgoing {
    pub template: &'static str,
    pub to: Email,
    pub content: Content,
}

/// The status a new message starts in.
fn initial_status(state: &AppState) -> MailStatus {
    match delivery(state) {
        Delivery::Sending => MailStatus::Queued,
        Delivery::Held => MailStatus::Held,
    }
}

/// What happens to a message queued now: it leaves this server, or it is
/// held in the outbox until an admin passes it on (no `[smtp] host`).
/// Pages and answers use it to say "on its way" only when it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Sending,
    Held,
}

impl Delivery {
    pub fn is_held(self) -> bool {
        self == Delivery::Held
    }
}

pub fn delivery(state: &AppState) -> Delivery {
    if state.config.smtp.enabled() {
        Delivery::Sending
    } else {
        Delivery::Held
    }
}

/// Puts a message in the outbox inside the caller's transaction, so the
/// message exists exactly when the change that sends it is committed.
/// Call `wake` after the commit.
pub fn enqueue_in(
    conn: &rusqlite::Connection,
    state: &AppState,
    msg: &Outgoing,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<MailId> {
    let bidx = state.keys.blind_index("email", msg.to.as_str());
    if crate::db::repos::outreach::is_suppressed(conn, &bidx)? {
        tracing::info!(
            template = msg.template,
            "mail not queued: the address opted out"
        );
        return Err(AppError::conflict(
            "opted_out",
            "This address asked not to be contacted.",
        ));
    }
    insert_in(conn, state, msg, now)
}

/// Templates of messages the address itself asks for: the suppression
/// list, which stops mail Colloquy starts (invitations, notices), does
/// not stop these, neither when queued nor when sent.
pub const REQUESTED_BY_RECIPIENT: &[&str] = &["data_request_answer"];

/// Puts in the outbox a message the address itself has just asked for
/// (one of `REQUESTED_BY_RECIPIENT`: the answer to a data request), also
/// when the address is on the suppression list. Call `wake` after the
/// commit.
pub fn enqueue_requested_in(
    conn: &rusqlite::Connection,
    state: &AppState,
    msg: &Outgoing,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<MailId> {
    if !REQUESTED_BY_RECIPIENT.contains(&msg.template) {
        return Err(AppError::internal(format!(
            "{} is not a message its recipient asks for",
            msg.template
        )));
    }
    insert_in(conn, state, msg, now)
}

fn insert_in(
    conn: &rusqlite::Connection,
    state: &AppState,
    msg: &Outgoing,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<MailId> {
    let status = initial_status(state);
    let id = mail_outbox::insert(
        conn,
        &state.keys,
        msg.template,
        &msg.to,
        &msg.content,
        status,
        now,
    )?;
    tracing::info!(
        mail_id = id.0,
        template = msg.template,
        status = status.as_str(),
        "mail queued"
    );
    Ok(id)
}

/// Like `enqueue_in` for messages a participant must not miss but that
/// may not go to an address that opted out: those are skipped (`None`).
pub fn enqueue_unless_opted_out_in(
    conn: &rusqlite::Connection,
    state: &AppState,
    msg: &Outgoing,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<MailId>> {
    match enqueue_in(conn, state, msg, now) {
        Ok(id) => Ok(Some(id)),
        Err(AppError::Conflict {
            code: "opted_out", ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Puts a message in the outbox and wakes the sender.
pub async fn enqueue(state: &AppState, msg: Outgoing) -> AppResult<MailId> {
    let st = state.clone();
    let now = state.now();
    let id = state
        .db
        .write(move |tx| enqueue_in(tx, &st, &msg, now))
        .await?;
    wake(state);
    Ok(id)
}

/// Tells the sender there may be something to deliver.
pub fn wake(state: &AppState) {
    if state.config.smtp.enabled() {
        state.mail_wake.notify_one();
    }
}

/// The mailbox: messages newest first, filtered by status (as given in the
/// query string) and template.
pub async fn list(
    state: &AppState,
    who: &Principal,
    status: Option<String>,
    template: Option<String>,
    page: &PageParams,
) -> AppResult<Page<MailView>> {
    who.require_admin()?;
    let limit = page.limit()?;
    let before = page.after_id()?;
    // A value that is no status matches no message.
    let Ok(status) = status.as_deref().map(str::parse::<MailStatus>).transpose() else {
        return Ok(Page::empty());
    };
    let keys = state.keys.clone();
    let rows = state
        .db
        .read(move |c| mail_outbox::list(c, &keys, status, template.as_deref(), before, limit + 1))
        .await?;
    let rows: Vec<MailView> = rows.into_iter().map(MailView::from).collect();
    Ok(Page::from_rows(rows, limit, |m| m.id))
}

/// Counts by status and the templates seen, for the mailbox filters.
pub async fn summary(
    state: &AppState,
    who: &Principal,
) -> AppResult<(Vec<(MailStatus, i64)>, Vec<String>)> {
    who.require_admin()?;
    state
        .db
        .read(|c| Ok((mail_outbox::counts(c)?, mail_outbox::templates(c)?)))
        .await
}

pub async fn get(state: &AppState, who: &Principal, id: MailId) -> AppResult<MailView> {
    who.require_admin()?;
    let keys = state.keys.clone();
    state
        .db
        .read(move |c| mail_outbox::find(c, &keys, id))
        .await?
        .map(MailView::from)
        .ok_or(AppError::NotFound)
}

/// Queues a failed or held message again (needs SMTP).
pub async fn retry(
    state: &AppState,
    who: &Principal,
    id: MailId,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    who.require_admin()?;
    if !state.config.smtp.enabled() {
        return Err(AppError::conflict(
            "smtp_not_configured",
            "No SMTP server is configured ([smtp] host), so mail is held, not sent.",
        ));
    }
    let (keys, now, actor) = (state.keys.clone(), state.now(), who.user_id);
    state
        .db
        .write(move |tx| {
            if !mail_outbox::exists(tx, id)? {
                return Err(AppError::NotFound);
            }
            if !mail_outbox::requeue(tx, id, now)? {
                return Err(AppError::conflict(
                    "mail_not_retryable",
                    "Only a failed or held message whose content is still kept can be sent again.",
                ));
            }
            let ev = audit::NewEvent {
                actor: Some(actor),
                action: "mail.retried",
                target: Some(format!("mail:{id}")),
                detail: json!({}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(())
        })
        .await?;
    tracing::info!(mail_id = id.0, "mail queued again by an admin");
    wake(state);
    Ok(())
}

/// Sends a test message to `to` (admins), to check the SMTP settings.
pub async fn send_test(
    state: &AppState,
    who: &Principal,
    to: &str,
    ip: Option<IpAddr>,
) -> AppResult<MailId> {
    who.require_admin()?;
    let to = Email::parse(to).map_err(|m| AppError::field("to", m))?;
    let content = templates::test_message(
        state.config.institution.brand(),
        state.config.smtp.enabled(),
    )?;
    let (keys, now, actor, st) = (state.keys.clone(), state.now(), who.user_id, state.clone());
    let msg = Outgoing {
        template: "test_message",
        to,
        content,
    };
    let id = state
        .db
        .write(move |tx| {
            let id = enqueue_in(tx, &st, &msg, now)?;
            let ev = audit::NewEvent {
                actor: Some(actor),
                action: "mail.test_sent",
                target: Some(format!("mail:{id}")),
                detail: json!({}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(id)
        })
        .await?;
    wake(state);
    Ok(id)
}
