//! Delivers due outbox rows over SMTP (lettre). Temporary failures (SMTP
//! 4xx, network errors, timeouts) are retried with exponential backoff up
//! to `smtp.max_attempts`; a permanent one (5xx) fails the row at once.
//! When the server cannot be reached (down, silent past `smtp.timeout_secs`,
//! or dropping the connection mid-message), the round stops at the first
//! such failure and the rest wait for the next one. Failed rows stay in the
//! outbox, visible in the admin mailbox.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{SmtpConfig, SmtpSecurity};
use crate::crypto::Keyring;
use crate::db::repos::mail_outbox::{self, MailRow};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// Messages sent per run of the sender, at most.
const BATCH: usize = 50;

/// Builds the SMTP transport from `[smtp]`; `None` when mail is held.
pub fn mailer(cfg: &SmtpConfig) -> anyhow::Result<Option<Mailer>> {
    if !cfg.enabled() {
        return Ok(None);
    }
    let host = cfg.host.trim();
    let builder = match cfg.security {
        SmtpSecurity::None => Mailer::builder_dangerous(host),
        SmtpSecurity::Starttls => Mailer::starttls_relay(host)?,
        SmtpSecurity::Tls => Mailer::relay(host)?,
    };
    let mut builder = builder
        .port(cfg.port)
        .timeout(Some(Duration::from_secs(cfg.timeout_secs)));
    if !cfg.username.is_empty() {
        builder = builder.credentials(Credentials::new(
            cfg.username.clone(),
            cfg.password.expose().to_string(),
        ));
    }
    Ok(Some(builder.build()))
}

/// Whether a sender run is already delivering.
#[derive(Default)]
pub struct SenderState {
    busy: AtomicBool,
}

/// The `Message-ID` of an outbox row: the same on every attempt, so a
/// message delivered twice (the process stopped after the SMTP server took
/// it and before the row was marked sent) reaches the receiver as one
/// message sent twice, which it can drop. The tag, keyed by the keyring's
/// index key, keeps ids of two installations apart.
pub fn message_id(keys: &Keyring, from: &Mailbox, row: &MailRow) -> String {
    let tag = keys.blind_index("message-id", &format!("{}:{}", row.id.0, row.created_at));
    let tag = tag.get(..20).unwrap_or(&tag);
    format!("<{tag}.{}@{}>", row.id.0, from.email.domain())
}

fn message(cfg: &SmtpConfig, keys: &Keyring, row: &MailRow) -> Result<Message, String> {
    let from: Mailbox = cfg.from.parse().map_err(|e| format!("smtp.from: {e}"))?;
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|_| "the recipient is not a valid address".to_string())?;
    let mut builder = Message::builder()
        .message_id(Some(message_id(keys, &from, row)))
        .from(from)
        .to(to)
        .subject(row.content.subject.clone());
    if !cfg.reply_to.is_empty() {
        builder = builder.reply_to(
            cfg.reply_to
                .parse()
                .map_err(|e| format!("smtp.reply_to: {e}"))?,
        );
    }
    for (name, value) in &row.content.headers {
        let name = HeaderName::new_from_ascii(name.clone())
            .map_err(|_| format!("bad header name {name}"))?;
        builder = builder.raw_header(HeaderValue::new(name, value.clone()));
    }
    let body =
        MultiPart::alternative_plain_html(row.content.text.clone(), row.content.html.clone());
    if row.content.attachments.is_empty() {
        return builder.multipart(body).map_err(|e| e.to_string());
    }
    let mut mixed = MultiPart::mixed().multipart(body);
    for a in &row.content.attachments {
        let kind = ContentType::parse(&a.content_type)
            .map_err(|e| format!("attachment {}: {e}", a.filename))?;
        mixed = mixed.singlepart(Attachment::new(a.filename.clone()).body(a.body.clone(), kind));
    }
    builder.multipart(mixed).map_err(|e| e.to_string())
}

/// Backoff before attempt `attempts + 1`: base × 2^(attempts − 1).
fn backoff(cfg: &SmtpConfig, attempts: u32) -> chrono::Duration {
    let factor = 2u64.saturating_pow(attempts.saturating_sub(1).min(16));
    chrono::Duration::seconds(cfg.backoff_base_secs.saturating_mul(factor).min(86_400) as i64)
}

/// Delivers every due message; returns (sent, failed for good).
pub async fn send_due(state: &AppState) -> AppResult<(usize, usize)> {
    let Some(mailer) = state.mailer.clone() else {
        return Ok((0, 0));
    };
    if state.mail_sender.busy.swap(true, Ordering::AcqRel) {
        return Ok((0, 0));
    }
    let result = deliver(state, &mailer).await;
    state.mail_sender.busy.store(false, Ordering::Release);
    result
}

async fn deliver(state: &AppState, mailer: &Mailer) -> AppResult<(usize, usize)> {
    let delivered = state.hooks.mail_delivered;
    let cfg = &state.config.smtp;
    let (mut sent, mut failed) = (0, 0);
    loop {
        let now = state.now();
        let due = state
            .db
            .read(move |c| mail_outbox::due(c, now, BATCH))
            .await?;
        if due.is_empty() {
            break;
        }
        for id in due {
            let keys = state.keys.clone();
            let Some(row) = state
                .db
                .read(move |c| mail_outbox::find(c, &keys, id))
                .await?
            else {
                continue;
            };
            let attempt = row.attempts as u32 + 1;
            // An address that opted out after the message was queued is
            // never sent to, unless the message is one it asked for.
            let bidx = state
                .keys
                .blind_index("email", &row.recipient.to_lowercase());
            let asked_for = super::REQUESTED_BY_RECIPIENT.contains(&row.template.as_str());
            let suppressed = !asked_for
                && state
                    .db
                    .read(move |c| crate::db::repos::outreach::is_suppressed(c, &bidx))
                    .await?;
            let outcome = if suppressed {
                Err(Failure::refused("the address opted out".to_string()))
            } else {
                match message(cfg, &state.keys, &row) {
                    Ok(msg) => attempt_send(mailer, msg, cfg.timeout_secs).await,
                    Err(e) => Err(Failure::refused(e)),
                }
            };
            let now = state.now();
            match outcome {
                Ok(()) => {
                    state
                        .db
                        .write(move |tx| {
                            mail_outbox::mark_sent(tx, id, now)?;
                            delivered(tx, id, true, now)
                        })
                        .await?;
                    tracing::info!(mail_id = id.0, template = %row.template, attempts = attempt, "mail sent");
                    sent += 1;
                }
                Err(Failure {
                    error,
                    permanent,
                    unreachable,
                }) => {
                    let give_up = permanent || attempt >= cfg.max_attempts;
                    let retry_at = (!give_up).then(|| now + backoff(cfg, attempt));
                    let e = error.clone();
                    state
                        .db
                        .write(move |tx| {
                            mail_outbox::mark_attempt_failed(tx, id, &e, retry_at, now)?;
                            if give_up {
                                delivered(tx, id, false, now)?;
                            }
                            Ok(())
                        })
                        .await?;
                    if give_up {
                        failed += 1;
                        tracing::warn!(mail_id = id.0, template = %row.template, attempts = attempt, permanent, error = %error, "mail failed");
                    } else {
                        tracing::info!(mail_id = id.0, template = %row.template, attempts = attempt, error = %error, "mail delivery will be retried");
                    }
                    if unreachable {
                        return Ok((sent, failed));
                    }
                }
            }
        }
    }
    Ok((sent, failed))
}

/// Why one message did not go out.
struct Failure {
    error: String,
    /// never retried (5xx, a message that cannot be built, an opt-out)
    permanent: bool,
    /// the server could not be reached: the round ends here, so a hang
    /// costs one timeout, not one per queued message
    unreachable: bool,
}

impl Failure {
    fn refused(error: String) -> Self {
        Failure {
            error,
            permanent: true,
            unreachable: false,
        }
    }
}

/// One delivery, bounded as a whole by `timeout_secs`: lettre's own
/// timeout covers connecting, not a server that accepts and then says
/// nothing.
async fn attempt_send(mailer: &Mailer, msg: Message, timeout_secs: u64) -> Result<(), Failure> {
    match tokio::time::timeout(Duration::from_secs(timeout_secs), mailer.send(msg)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Failure {
            error: describe(&e),
            permanent: e.is_permanent(),
            unreachable: !e.is_permanent() && !e.is_transient(),
        }),
        Err(_) => Err(Failure {
            error: format!("timeout: the SMTP server did not finish within {timeout_secs} s"),
            permanent: false,
            unreachable: true,
        }),
    }
}

/// The SMTP error without the addresses lettre may quote.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let text = e.to_string();
    let clean: String = text
        .split_whitespace()
        .map(|w| if w.contains('@') { "<address>" } else { w })
        .collect::<Vec<_>>()
        .join(" ");
    let kind = if e.is_permanent() {
        "permanent"
    } else if e.is_transient() {
        "temporary"
    } else if e.is_timeout() {
        "timeout"
    } else {
        "connection"
    };
    format!("{kind}: {}", clean.chars().take(300).collect::<String>())
}

/// Delivers at once whenever a message is queued; the `[jobs] mail`
/// schedule retries what is due later.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = send_due(&state).await {
                tracing::error!(error = %e, "mail sender failed");
            }
            state.mail_wake.notified().await;
        }
    })
}

/// For the admin page: whether mail leaves the outbox at all (else every
/// message stays held).
pub fn sends(state: &AppState) -> bool {
    state.mailer.is_some()
}

impl From<lettre::error::Error> for AppError {
    fn from(e: lettre::error::Error) -> Self {
        AppError::internal(e.to_string())
    }
}
