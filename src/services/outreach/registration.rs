//! Registration through an invitation link: the landing page's profile,
//! the researcher's corrections, the account, renewing an expired link, and
//! claims completed at log-in.

use std::net::IpAddr;

use serde_json::json;

use super::corrections::{apply_corrections, validate_corrections};
use super::*;
use crate::db::repos::outreach as repo;
use crate::db::repos::{audit, booking_settings, consents, researchers, users};
use crate::domain::password::PasswordPolicy;
use crate::domain::{
    text, zone, ConsentSource, Email, LegalDocument, OutreachStatus, ResearcherId,
    ResearcherStatus, Role,
};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::services::link_tokens::{self, LinkClaims, LinkProblem};
use crate::services::mail::templates::{self, RegistrationWelcome};
use crate::services::mail::{self, Outgoing};
use crate::services::terms;
use crate::state::AppState;

/// What the registration page shows.
pub struct Landing {
    pub claims: LinkClaims,
    pub profile: crate::services::researchers::ResearcherView,
    /// An account has the link's address: the page asks to sign in and
    /// link the profile instead of registering.
    pub account_exists: bool,
}

/// A link that still works, and the profile it is for (not claimed, and
/// still at the address the link was mailed to).
async fn live_link(
    state: &AppState,
    token: &str,
) -> Result<(LinkClaims, researchers::ResearcherRow), (LinkProblem, Option<LinkClaims>)> {
    let claims = link_tokens::verify(&state.keys, token, link_tokens::REGISTER, state.now())?;
    let (jti, rid, keys) = (claims.jti.clone(), claims.rid, state.keys.clone());
    let (used, row, bidx) = state
        .db
        .read(move |c| {
            Ok((
                repo::token_used(c, &jti)?,
                researchers::find(c, &keys, rid)?,
                researchers::email_bidx(c, rid)?,
            ))
        })
        .await
        .map_err(|_| (LinkProblem::Tampered, None))?;
    let row = row.ok_or((LinkProblem::Tampered, None))?;
    if used {
        return Err((LinkProblem::Used, Some(claims)));
    }
    if row.user_id.is_some() {
        return Err((LinkProblem::AlreadyClaimed, None));
    }
    if !claims.is_for(bidx.as_deref()) {
        return Err((LinkProblem::RecipientChanged, Some(claims)));
    }
    Ok((claims, row))
}

/// Checks a registration link (unused, unexpired, signed, right purpose,
/// profile unclaimed and still at the link's address) and loads the
/// profile it is for; records that the page was opened.
pub async fn landing(
    state: &AppState,
    token: &str,
) -> Result<Landing, (LinkProblem, Option<LinkClaims>)> {
    let (claims, row) = live_link(state, token).await?;
    let rid = row.id;
    let (oid, now) = (claims.outreach(), state.now());
    let _ = state
        .db
        .write(move |tx| {
            let opened = repo::find(tx, oid)?
                .is_some_and(|o| o.events.iter().any(|(e, _)| *e == OutreachStatus::Opened));
            if !opened {
                repo::add_event(tx, oid, OutreachStatus::Opened, now)?;
            }
            Ok(())
        })
        .await;
    let rcpt = claims.rcpt.clone().unwrap_or_default();
    let (sources, account_exists) = state
        .db
        .read(move |c| {
            Ok((
                researchers::sources(c, rid)?,
                users::exists_with_index(c, &rcpt)?,
            ))
        })
        .await
        .unwrap_or_default();
    let profile = crate::services::researchers::admin_view(row, sources);
    Ok(Landing {
        claims,
        profile,
        account_exists,
    })
}

pub struct ResearcherRegistration {
    pub token: String,
    pub password: String,
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub accept_terms: bool,
    pub corrections: Corrections,
}

fn check_timezone(tz: Option<String>, errs: &mut FieldErrors) -> Option<String> {
    let tz = tz.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())?;
    match zone::parse(&tz) {
        Ok(z) => Some(z.name().to_string()),
        Err(m) => {
            errs.add("timezone", m);
            None
        }
    }
}

/// The link's profile, re-checked inside the transaction that uses it:
/// unclaimed, still at the link's address, and the link unused.
fn take_link(
    tx: &rusqlite::Connection,
    claims: &LinkClaims,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let rid = claims.rid;
    let owner = researchers::owner(tx, rid)?.ok_or_else(|| LinkProblem::Tampered.into_error())?;
    if owner.is_some() {
        return Err(LinkProblem::AlreadyClaimed.into_error());
    }
    if !claims.is_for(researchers::email_bidx(tx, rid)?.as_deref()) {
        return Err(LinkProblem::RecipientChanged.into_error());
    }
    if !repo::use_token(tx, &claims.jti, link_tokens::REGISTER, now)? {
        return Err(LinkProblem::Used.into_error());
    }
    Ok(())
}

/// Registers the researcher behind a link: a new `researcher` account with
/// a verified e-mail, linked to the profile; the link works once. It never
/// touches an existing account: when the address has one, the answer is
/// 409 `account_exists` (sign in, then `link_profile`).
pub async fn register(
    state: &AppState,
    reg: ResearcherRegistration,
    ip: Option<IpAddr>,
) -> AppResult<crate::services::accounts::Account> {
    let (claims, row) = live_link(state, &reg.token)
        .await
        .map_err(|(p, _)| p.into_error())?;
    let rid = row.id;
    let Some(address) = row.email.clone() else {
        return Err(AppError::conflict(
            "no_email",
            "This profile has no e-mail address any more (it was opted out).",
        ));
    };
    let email = Email::parse(&address).map_err(AppError::internal)?;
    let mut errs = FieldErrors::new();
    let name = match reg.name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(n) => errs.check("name", text::line(n, 200)),
        None => Some(row.name.clone()),
    };
    let policy = PasswordPolicy {
        min_len: state.config.auth.password_min_length,
        max_len: state.config.auth.password_max_length,
    };
    if let Err(m) = policy.check(&reg.password, Some(&email)) {
        errs.add("password", m);
    }
    let timezone = check_timezone(reg.timezone, &mut errs);
    errs.check(
        "accept_terms",
        terms::check_accepted(&state.config.institution, reg.accept_terms),
    );
    let corrections = validate_corrections(&reg.corrections, &mut errs).await;
    errs.into_result()?;
    let name = name.unwrap_or_default();
    let hash = state.passwords.hash(&reg.password).await?;
    let (keys, now, oid) = (state.keys.clone(), state.now(), claims.outreach());
    let inst = state.config.institution.clone();
    let account_email = email.clone();
    let user = state
        .db
        .write(move |tx| {
            if users::find_by_email(tx, &keys, &account_email)?.is_some() {
                return Err(account_exists());
            }
            take_link(tx, &claims, now)?;
            apply_corrections(tx, &keys, rid, &corrections, now)?;
            let terms_version = terms::version_of(&inst, LegalDocument::Terms);
            researchers::set_listing_consent(tx, rid, terms_version, timezone.as_deref(), now)?;
            // The person's zone: the one picked, else the profile's, else UTC.
            let profile_zone = booking_settings::timezone(tx, rid)?;
            let account_zone = zone::first_of([profile_zone.as_deref()], zone::DEFAULT);
            let new = users::NewUser {
                email: &account_email,
                name: &name,
                role: Role::Researcher,
                password_hash: &hash,
                accepted: Some(terms::accepted_now(&inst, ConsentSource::Invitation)),
                timezone: account_zone.name(),
            };
            let user = users::insert(tx, &keys, &new, now)?;
            consents::grant_listing(tx, user, terms_version, ConsentSource::Invitation, now)?;
            // The link proved the mailbox.
            users::mark_email_verified(tx, user, now)?;
            if !researchers::claim(tx, rid, user, now)? {
                return Err(LinkProblem::AlreadyClaimed.into_error());
            }
            repo::add_event(tx, oid, OutreachStatus::Registered, now)?;
            let ev = audit::NewEvent {
                actor: Some(user),
                action: "researcher.registered",
                target: Some(format!("researcher:{rid}")),
                detail: json!({"terms_version": terms_version}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(user)
        })
        .await?;
    let account = crate::services::accounts::get_user(state, user).await?;
    welcome(state, &account, rid, email).await?;
    Ok(account.into())
}

fn account_exists() -> AppError {
    AppError::conflict(
        "account_exists",
        "An account with this e-mail address exists already. Log in to it, then open this link again to link the profile.",
    )
}

async fn welcome(
    state: &AppState,
    account: &users::UserRow,
    rid: ResearcherId,
    to: Email,
) -> AppResult<()> {
    let content = templates::registration_welcome(&RegistrationWelcome {
        institution: state.config.institution.brand(),
        name: account.name.clone(),
        profile_url: format!("{}/researchers/{rid}", state.config.public_url()),
        availability_url: format!(
            "{}/researchers/{rid}/availability",
            state.config.public_url()
        ),
        contact_email: state.config.institution.contact_email.clone(),
    })?;
    mail::enqueue(
        state,
        Outgoing {
            template: "registration_welcome",
            to,
            content,
        },
    )
    .await?;
    Ok(())
}

/// A signed-in account links the profile an invitation link is for. The
/// account's address must be the one the link was mailed to (holding the
/// link then also proves the address); admin accounts are linked by an
/// admin on the admin page, never through a link.
pub async fn link_profile(
    state: &AppState,
    who: &crate::services::accounts::Principal,
    token: &str,
    accept_terms: bool,
    timezone: Option<String>,
    ip: Option<IpAddr>,
) -> AppResult<ResearcherId> {
    let (claims, row) = live_link(state, token)
        .await
        .map_err(|(p, _)| p.into_error())?;
    let rid = row.id;
    if who.is_admin() {
        return Err(AppError::conflict(
            "admin_account",
            "An admin account is never linked through an invitation link. Link it on the profile's admin page.",
        ));
    }
    let mut errs = FieldErrors::new();
    let timezone = check_timezone(timezone, &mut errs);
    errs.check(
        "accept_terms",
        terms::check_accepted(&state.config.institution, accept_terms),
    );
    errs.into_result()?;
    let inst = state.config.institution.clone();
    let (keys, now, uid, oid) = (
        state.keys.clone(),
        state.now(),
        who.user_id,
        claims.outreach(),
    );
    let account = state
        .db
        .write(move |tx| {
            let account = users::find(tx, &keys, uid)?.ok_or(AppError::NotFound)?;
            let bidx = Email::parse(&account.email)
                .ok()
                .map(|e| users::email_index(&keys, &e));
            if !claims.is_for(bidx.as_deref()) {
                return Err(AppError::refused(
                    "not_the_recipient",
                    "This link was sent to another address than your account's. Log in with the account that has that address.",
                ));
            }
            if researchers::by_user(tx, uid)?.is_some() {
                return Err(crate::services::claims::already_linked());
            }
            take_link(tx, &claims, now)?;
            if !researchers::claim(tx, rid, uid, now)? {
                return Err(LinkProblem::AlreadyClaimed.into_error());
            }
            let terms_version = terms::version_of(&inst, LegalDocument::Terms);
            researchers::set_listing_consent(tx, rid, terms_version, timezone.as_deref(), now)?;
            consents::grant_listing(tx, uid, terms_version, ConsentSource::Invitation, now)?;
            if let Some(z) = &timezone {
                booking_settings::set_timezone(tx, rid, z, now)?;
            }
            if !account.email_verified {
                users::mark_email_verified(tx, uid, now)?;
            }
            users::promote_to_researcher(tx, uid, now)?;
            repo::add_event(tx, oid, OutreachStatus::Registered, now)?;
            let ev = audit::NewEvent {
                actor: Some(uid),
                action: "researcher.claimed",
                target: Some(format!("researcher:{rid}")),
                detail: json!({"via": "invitation_link", "terms_version": terms_version}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(account)
        })
        .await?;
    crate::services::accounts::forget_role(state, uid).await?;
    let to = Email::parse(&account.email).map_err(AppError::internal)?;
    welcome(state, &account, rid, to).await?;
    Ok(rid)
}

/// Sends a fresh registration link for an expired or used one (the
/// researcher asked on the bad-link page); answers whether the mail leaves
/// the server or is held for an admin. Refused once registered or opted out.
pub async fn renew(
    state: &AppState,
    token: &str,
    ip: Option<IpAddr>,
) -> AppResult<crate::services::mail::Delivery> {
    // Any link this profile was sent works here, also an expired one or one
    // to an old address: the new link goes to the current address only.
    let claims = match link_tokens::verify(&state.keys, token, link_tokens::REGISTER, state.now()) {
        Ok(c) | Err((LinkProblem::Expired, Some(c))) => c,
        Err((p, _)) => return Err(p.into_error()),
    };
    let rid = claims.rid;
    let (row, status, user) = load(state, rid).await?;
    if status == ResearcherStatus::OptedOut || user.is_some() {
        return Err(AppError::conflict(
            "not_invitable",
            "This profile is registered already, or opted out.",
        ));
    }
    let Some(address) = row.email.clone() else {
        return Err(AppError::conflict(
            "no_email",
            "There is no address to send a link to.",
        ));
    };
    let to = Email::parse(&address).map_err(AppError::internal)?;
    // The researcher asked for it: no cooldown, but at most one an hour.
    let last = state
        .db
        .read(move |c| repo::last_invitation(c, rid))
        .await?;
    if last.is_some_and(|l| l > crate::db::ts(state.now() - chrono::Duration::hours(1))) {
        return Err(AppError::RateLimited {
            retry_after_secs: 3600,
        });
    }
    invite(state, None, row, to, None, None, ip)
        .await
        .map(|o| o.mail)
}
