//! Outreach: readers (and admins) invite researchers by e-mail; the
//! researcher registers through a signed single-use link, or opts out with
//! one click and is never contacted again.

use std::net::IpAddr;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::db::repos::outreach::{self as repo, NewOutreach};
use crate::db::repos::{audit, papers, researchers, users};
use crate::domain::{
    text, Email, MailId, OutreachId, OutreachStatus, PaperId, ResearcherId, ResearcherStatus,
    UserId,
};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::services::link_tokens::{self};
use crate::services::mail::data_rights_templates::Art14Notice;
use crate::services::mail::templates::{self, OutreachRequest};
use crate::services::mail::{self, Outgoing};
use crate::state::AppState;

mod admin;
mod corrections;
mod opt_out;
mod registration;
mod views;

pub use admin::*;
pub use corrections::Corrections;
pub use opt_out::*;
pub use registration::*;
pub use views::{DemandView, InvitationView};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutreachView {
    pub id: OutreachId,
    pub status: OutreachStatus,
    /// `sending`: the invitation leaves this server; `held`: no mail server
    /// is set, so it waits in the admin mailbox until an admin sends it.
    pub mail: mail::Delivery,
}

/// Where the researcher's address came from, for the notice in the e-mail.
pub(super) fn address_source(provider: &str, url: Option<&str>) -> String {
    match (provider, url) {
        ("firecrawl", Some(u)) => format!("it is shown on the public page {u}"),
        ("firecrawl", None) => "it is shown on your public profile page".into(),
        ("rocketreach", _) => "RocketReach, a directory of professional contact details".into(),
        ("researcher", _) => "you gave it to us".into(),
        ("admin", _) => "a member of our staff entered it by hand".into(),
        _ => "public sources about your work".into(),
    }
}

pub(super) fn link(state: &AppState, path: &str, token: &str) -> String {
    format!("{}/{path}/{token}", state.config.public_url())
}

/// A researcher's profile with its outreach status and linked account.
pub(super) async fn load(
    state: &AppState,
    id: ResearcherId,
) -> AppResult<(researchers::ResearcherRow, ResearcherStatus, Option<UserId>)> {
    let keys = state.keys.clone();
    state
        .db
        .read(move |c| {
            let row = researchers::find(c, &keys, id)?.ok_or(AppError::NotFound)?;
            let (status, user) = researchers::status_of(c, id)?.ok_or(AppError::NotFound)?;
            Ok((row, status, user))
        })
        .await
}

/// Asks a researcher to register (or, when registered, tells them about
/// the readers' interest). A reader's interest is recorded either way.
pub async fn request(
    state: &AppState,
    who: &Principal,
    researcher: ResearcherId,
    paper: Option<PaperId>,
    message: Option<String>,
    ip: Option<IpAddr>,
) -> AppResult<OutreachView> {
    crate::services::accounts::require_verified(state, who).await?;
    let message = text::optional_block(message.as_deref(), 2000)
        .map_err(|m| AppError::field("message", m))?;
    if let Some(p) = paper {
        if !state.db.read(move |c| papers::exists(c, p)).await? {
            return Err(AppError::NotFound);
        }
        // The invitation names the paper: it must be one of theirs.
        if !state
            .db
            .read(move |c| researchers::is_author_of(c, researcher, p))
            .await?
        {
            return Err(AppError::field(
                "paper_id",
                "this researcher is not an author of that paper",
            ));
        }
    }
    let (row, status, linked_user) = load(state, researcher).await?;
    let now = state.now();
    let reader = (!who.is_admin()).then_some(who.user_id);
    let record_interest = |st: &AppState| {
        let st = st.clone();
        async move {
            if let Some(user) = reader {
                st.db
                    .write(move |tx| repo::record_interest(tx, researcher, user, paper, now))
                    .await?;
            }
            Ok::<(), AppError>(())
        }
    };
    if status == ResearcherStatus::OptedOut {
        return Err(AppError::conflict(
            "opted_out",
            "This researcher asked not to be contacted.",
        ));
    }
    if linked_user.is_none() && status == ResearcherStatus::Registered {
        // The owner's account was deleted: its person is not invited again.
        return Err(AppError::conflict(
            "not_invitable",
            "This researcher's account was deleted; they are not invited again.",
        ));
    }
    if let Some(user) = linked_user {
        record_interest(state).await?;
        notify_registered(state, who, researcher, user, paper, ip).await?;
        return Err(AppError::conflict(
            "already_registered",
            "This researcher is registered already; we told them about your interest. You can book them directly.",
        ));
    }
    let Some(address) = row.email.clone() else {
        record_interest(state).await?;
        return Err(AppError::Validation {
            message: "We have no e-mail address for this researcher yet.".into(),
            fields: [("researcher_id".to_string(), "no_email".to_string())].into(),
        });
    };
    let to = Email::parse(&address).map_err(AppError::internal)?;
    let bidx = researchers::email_index(&state.keys, &to);
    let cooldown = state.config.outreach.cooldown_days;
    let (last, suppressed) = state
        .db
        .read(move |c| {
            Ok((
                repo::last_invitation(c, researcher)?,
                repo::is_suppressed(c, &bidx)?,
            ))
        })
        .await?;
    if suppressed {
        return Err(AppError::conflict(
            "opted_out",
            "This researcher asked not to be contacted.",
        ));
    }
    record_interest(state).await?;
    if let Some(last) = last {
        if last > crate::db::ts(now - chrono::Duration::days(cooldown)) {
            return Err(AppError::conflict(
                "recently_invited",
                format!("This researcher was invited in the last {cooldown} days; your interest is recorded and will be counted."),
            ));
        }
    }
    invite(state, Some(who.user_id), row, to, paper, message, ip).await
}

/// Queues the invitation e-mail, with its links, in one transaction.
pub(super) async fn invite(
    state: &AppState,
    actor: Option<UserId>,
    r: researchers::ResearcherRow,
    to: Email,
    paper: Option<PaperId>,
    message: Option<String>,
    ip: Option<IpAddr>,
) -> AppResult<OutreachView> {
    let researcher = r.id;
    let (title, sources, waiting) = state
        .db
        .read(move |c| {
            let title = match paper {
                Some(p) => papers::find(c, p)?.map(|p| p.title),
                None => None,
            };
            Ok((
                title,
                researchers::sources(c, researcher)?,
                repo::interest_count(c, researcher)?,
            ))
        })
        .await?;
    let source = sources.iter().find(|s| s.field == "email");
    let providers: Vec<String> = sources.iter().map(|s| s.provider.clone()).collect();
    let address_source = address_source(
        source.map_or("", |s| s.provider.as_str()),
        source.and_then(|s| s.source_url.as_deref()),
    );
    let (st, keys, now) = (state.clone(), state.keys.clone(), state.now());
    let ttl = state.config.outreach.link_ttl_days;
    let view = state
        .db
        .write(move |tx| {
            let new = NewOutreach {
                researcher,
                paper,
                requested_by: actor,
                kind: "invitation",
                message: message.as_deref(),
            };
            let id = repo::insert(tx, &keys, &new, now)?;
            let rcpt = researchers::email_index(&keys, &to);
            let issue =
                |purpose| link_tokens::issue(&keys, researcher, id, purpose, now, ttl, Some(&rcpt));
            let register = issue(link_tokens::REGISTER)?;
            let opt_out = issue(link_tokens::OPT_OUT)?;
            let opt_out_url = link(&st, "opt-out", &opt_out);
            let providers: Vec<&str> = providers.iter().map(String::as_str).collect();
            let notice = Art14Notice::new(
                &st.config,
                &providers,
                title.as_deref(),
                opt_out_url.clone(),
            );
            let content = templates::outreach_request(&OutreachRequest {
                institution: st.config.institution.brand(),
                researcher_name: r.name.clone(),
                paper_title: title,
                readers_waiting: waiting,
                reader_message: message.clone(),
                register_url: link(&st, "invite", &register),
                opt_out_url,
                address_source,
                contact_email: st.config.institution.contact_email.clone(),
                link_valid_days: ttl,
                notice,
            })?;
            let mail_id = mail::enqueue_in(
                tx,
                &st,
                &Outgoing {
                    template: "outreach_request",
                    to,
                    content,
                },
                now,
            )?;
            repo::set_mail(tx, id, mail_id)?;
            researchers::set_status(tx, researcher, ResearcherStatus::Invited, now)?;
            let ev = audit::NewEvent {
                actor,
                action: "outreach.invited",
                target: Some(format!("researcher:{researcher}")),
                detail: json!({"outreach_id": id, "paper_id": paper}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(OutreachView {
                id,
                status: OutreachStatus::Queued,
                mail: mail::delivery(&st),
            })
        })
        .await?;
    mail::wake(state);
    Ok(view)
}

/// Tells a registered researcher that readers want to consult them.
async fn notify_registered(
    state: &AppState,
    who: &Principal,
    researcher: ResearcherId,
    user: UserId,
    paper: Option<PaperId>,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    let keys = state.keys.clone();
    let (account, row, waiting) = state
        .db
        .read(move |c| {
            Ok((
                users::find(c, &keys, user)?,
                researchers::find(c, &keys, researcher)?,
                repo::interest_count(c, researcher)?,
            ))
        })
        .await?;
    let (Some(account), Some(row)) = (account, row) else {
        return Ok(());
    };
    // Not needed to run the researcher's own business: product e-mail,
    // sent only while they have not withdrawn that consent.
    let wants = state
        .db
        .read(move |c| {
            crate::db::repos::consents::is_granted(
                c,
                user,
                crate::domain::ConsentKind::ProductEmail,
            )
        })
        .await?;
    if !wants {
        return Ok(());
    }
    // At most one notice per cooldown period; the interest is counted anyway.
    let cutoff =
        crate::db::ts(state.now() - chrono::Duration::days(state.config.outreach.cooldown_days));
    let last = state
        .db
        .read(move |c| repo::last_of_kind(c, researcher, "interest_notice"))
        .await?;
    if last.is_some_and(|l| l > cutoff) {
        return Ok(());
    }
    let to = Email::parse(&account.email).map_err(AppError::internal)?;
    let content = templates::interest_notice(&templates::InterestNotice {
        institution: state.config.institution.brand(),
        name: row.name,
        readers_waiting: waiting,
        profile_url: format!("{}/researchers/{researcher}", state.config.public_url()),
    })?;
    let (st, keys, now, actor) = (state.clone(), state.keys.clone(), state.now(), who.user_id);
    state
        .db
        .write(move |tx| {
            let new = NewOutreach {
                researcher,
                paper,
                requested_by: Some(actor),
                kind: "interest_notice",
                message: None,
            };
            let id = repo::insert(tx, &keys, &new, now)?;
            let mail_id = mail::enqueue_in(
                tx,
                &st,
                &Outgoing {
                    template: "interest_notice",
                    to,
                    content,
                },
                now,
            )?;
            repo::set_mail(tx, id, mail_id)?;
            let ev = audit::NewEvent {
                actor: Some(actor),
                action: "outreach.interest_notice",
                target: Some(format!("researcher:{researcher}")),
                detail: json!({"outreach_id": id}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(())
        })
        .await?;
    mail::wake(state);
    Ok(())
}

/// Keeps an invitation's status in step with its e-mail.
pub fn mail_delivered(
    conn: &rusqlite::Connection,
    mail: MailId,
    sent: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    if let Some(id) = repo::by_mail(conn, mail)? {
        let reached = if sent {
            OutreachStatus::Sent
        } else {
            OutreachStatus::Failed
        };
        repo::add_event(conn, id, reached, now)?;
    }
    Ok(())
}
