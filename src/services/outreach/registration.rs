//! Registration through an invitation link: the landing page's profile,
//! the researcher's corrections, the account, renewing an expired link, and
//! claims completed at log-in.

use std::net::IpAddr;

use serde_json::json;

use super::*;
use crate::db::repos::outreach as repo;
use crate::db::repos::{audit, researchers, users};
use crate::domain::password::PasswordPolicy;
use crate::domain::researcher::{Field, FieldValue, Provenance};
use crate::domain::{text, Email, ResearcherId, Role};
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
}

/// Checks a registration link (unused, unexpired, signed, right purpose)
/// and loads the profile it is for; records that the page was opened.
pub async fn landing(
    state: &AppState,
    token: &str,
) -> Result<Landing, (LinkProblem, Option<LinkClaims>)> {
    let claims = link_tokens::verify(&state.keys, token, link_tokens::REGISTER, state.now())?;
    let jti = claims.jti.clone();
    let used = state
        .db
        .read(move |c| repo::token_used(c, &jti))
        .await
        .map_err(|_| (LinkProblem::Tampered, None))?;
    if used {
        return Err((LinkProblem::Used, Some(claims)));
    }
    let rid = ResearcherId(claims.rid);
    let keys = state.keys.clone();
    let row = state
        .db
        .read(move |c| researchers::find(c, &keys, rid))
        .await
        .ok()
        .flatten()
        .ok_or((LinkProblem::Tampered, None))?;
    let (oid, now) = (claims.oid, state.now());
    let _ = state
        .db
        .write(move |tx| {
            let opened =
                repo::find(tx, oid)?.is_some_and(|o| o.events.iter().any(|(e, _)| e == "opened"));
            if !opened {
                repo::add_event(tx, oid, "opened", now)?;
            }
            Ok(())
        })
        .await;
    let sources = state
        .db
        .read(move |c| researchers::sources(c, rid))
        .await
        .unwrap_or_default();
    let profile = crate::services::researchers::admin_view(row, sources);
    Ok(Landing { claims, profile })
}

/// Corrections the researcher made on the registration page.
#[derive(Debug, Default, Clone)]
pub struct Corrections {
    pub bio: Option<String>,
    pub affiliation: Option<String>,
    pub homepage: Option<String>,
    pub publications: Option<Vec<String>>,
    pub achievements: Option<Vec<(String, Option<String>)>>,
}

pub struct ResearcherRegistration {
    pub token: String,
    pub password: String,
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub accept_terms: bool,
    pub corrections: Corrections,
}

/// The outcome of a registration.
pub enum Registered {
    /// A new account was made and linked.
    Account(users::UserRow),
    /// The address has an account already: the profile is linked when that
    /// account next logs in.
    PendingClaim,
}

fn valid_timezone(tz: &str) -> bool {
    tz.len() <= 64
        && (tz == "UTC"
            || (tz.contains('/')
                && tz.split('/').all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c))
                })))
}

/// Registers the researcher behind a link: a `researcher` account with a
/// verified e-mail, linked to the profile; the link works once.
pub async fn register(
    state: &AppState,
    reg: ResearcherRegistration,
    ip: Option<IpAddr>,
) -> AppResult<Registered> {
    let claims = link_tokens::verify(&state.keys, &reg.token, link_tokens::REGISTER, state.now())
        .map_err(|(p, _)| p.into_error())?;
    let rid = ResearcherId(claims.rid);
    let keys = state.keys.clone();
    let row = state
        .db
        .read(move |c| researchers::find(c, &keys, rid))
        .await?
        .ok_or_else(|| LinkProblem::Tampered.into_error())?;
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
    let timezone = reg
        .timezone
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.trim().to_string());
    if timezone.as_deref().is_some_and(|t| !valid_timezone(t)) {
        errs.add(
            "timezone",
            "must be an IANA time zone such as Europe/Berlin",
        );
    }
    if !reg.accept_terms {
        errs.add(
            "accept_terms",
            format!(
                "you must accept the terms (version {})",
                terms::TERMS_VERSION
            ),
        );
    }
    let corrections = validate_corrections(&reg.corrections, &mut errs);
    errs.into_result()?;
    let name = name.unwrap_or_default();
    let hash = state.passwords.hash(&reg.password).await?;
    let (keys, now, jti, oid) = (
        state.keys.clone(),
        state.now(),
        claims.jti.clone(),
        claims.oid,
    );
    let account_email = email.clone();
    let outcome = state
        .db
        .write(move |tx| {
            if !repo::use_token(tx, &jti, link_tokens::REGISTER, now)? {
                return Err(LinkProblem::Used.into_error());
            }
            apply_corrections(tx, &keys, rid, &corrections, now)?;
            researchers::set_listing_consent(
                tx,
                rid,
                terms::TERMS_VERSION,
                timezone.as_deref(),
                now,
            )?;
            if let Some(existing) = users::find_by_email(tx, &keys, &account_email)? {
                if !users::is_email_verified(tx, existing.id)? {
                    // Nobody proved this address owns that account, while
                    // the link proves control of the mailbox: the mailbox
                    // wins. The account gets the new password, is verified,
                    // its sessions end, and the profile is linked now.
                    users::update_password(tx, existing.id, &hash, now)?;
                    users::mark_email_verified(tx, existing.id, now)?;
                    if existing.role == Role::User {
                        users::set_role(tx, existing.id, Role::Researcher, now)?;
                    }
                    crate::db::repos::auth_sessions::revoke_all_except(tx, existing.id, None, now)?;
                    researchers::claim(tx, rid, existing.id.0, now)?;
                    repo::add_event(tx, oid, "registered", now)?;
                    let ev = audit::NewEvent {
                        actor: Some(existing.id),
                        action: "researcher.registered_over_unverified_account",
                        target: Some(format!("researcher:{rid}")),
                        detail: json!({"terms_version": terms::TERMS_VERSION}),
                        ip,
                    };
                    audit::append(tx, &keys, ev, now)?;
                    return Ok(Some(existing.id));
                }
                repo::add_pending_claim(tx, rid, &users::email_index(&keys, &account_email), now)?;
                let ev = audit::NewEvent {
                    actor: Some(existing.id),
                    action: "researcher.claim_pending",
                    target: Some(format!("researcher:{rid}")),
                    detail: json!({}),
                    ip,
                };
                audit::append(tx, &keys, ev, now)?;
                return Ok(None);
            }
            let new = users::NewUser {
                email: &account_email,
                name: &name,
                role: Role::Researcher,
                password_hash: &hash,
                terms_version: Some(terms::TERMS_VERSION),
            };
            let user = users::insert(tx, &keys, &new, now)?;
            users::mark_email_verified(tx, user, now)?;
            researchers::claim(tx, rid, user.0, now)?;
            repo::add_event(tx, oid, "registered", now)?;
            let ev = audit::NewEvent {
                actor: Some(user),
                action: "researcher.registered",
                target: Some(format!("researcher:{rid}")),
                detail: json!({"terms_version": terms::TERMS_VERSION}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(Some(user))
        })
        .await?;
    let Some(user) = outcome else {
        return Ok(Registered::PendingClaim);
    };
    let account = crate::services::accounts::get_user(state, user).await?;
    let content = templates::registration_welcome(&RegistrationWelcome {
        institution: state.config.institution.name.clone(),
        name: account.name.clone(),
        profile_url: format!("{}/researchers/{rid}", state.config.public_url()),
        availability_url: format!("{}/account", state.config.public_url()),
        contact_email: state.config.institution.contact_email.clone(),
    })?;
    mail::enqueue(
        state,
        Outgoing {
            template: "registration_welcome",
            to: email,
            content,
        },
    )
    .await?;
    Ok(Registered::Account(account))
}

/// Valid corrections, as field values; `None` values mean "remove".
type Correction = (Field, Option<FieldValue>);

fn validate_corrections(c: &Corrections, errs: &mut FieldErrors) -> Vec<Correction> {
    let mut out = Vec::new();
    if let Some(bio) = &c.bio {
        if let Some(v) = errs.check("bio", text::optional_block(Some(bio), 5000)) {
            out.push((Field::Bio, v.map(FieldValue::Text)));
        }
    }
    if let Some(a) = &c.affiliation {
        if let Some(v) = errs.check("affiliation", text::optional_line(Some(a), 300)) {
            out.push((Field::Affiliation, v.map(FieldValue::Text)));
        }
    }
    if let Some(h) = &c.homepage {
        let h = h.trim();
        if h.is_empty() {
            out.push((Field::Homepage, None));
        } else if url::Url::parse(h).is_ok_and(|u| u.scheme() == "https" || u.scheme() == "http")
            && h.len() <= 500
        {
            out.push((Field::Homepage, Some(FieldValue::Text(h.to_string()))));
        } else {
            errs.add("homepage", "must be an http(s) URL");
        }
    }
    if let Some(p) = &c.publications {
        let list: Vec<String> = p
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .take(100)
            .collect();
        if list.iter().any(|s| text::line(s, 500).is_err()) {
            errs.add(
                "publications",
                "one title per line, each at most 500 characters",
            );
        } else {
            out.push((
                Field::Publications,
                (!list.is_empty()).then(|| FieldValue::Json(json!(list))),
            ));
        }
    }
    if let Some(a) = &c.achievements {
        if a.iter().any(|(t, u)| {
            text::optional_line(Some(t), 500).is_err()
                || u.as_deref().is_some_and(|u| u.len() > 500)
        }) {
            errs.add("achievements", "one per line, each at most 500 characters");
        }
        let list: Vec<serde_json::Value> = a
            .iter()
            .filter(|(t, _)| !t.trim().is_empty())
            .take(50)
            .map(|(t, u)| json!({"text": t.trim(), "source_url": u.as_deref().filter(|u| u.starts_with("http")).unwrap_or("")}))
            .collect();
        out.push((
            Field::Achievements,
            (!list.is_empty()).then(|| FieldValue::Json(json!(list))),
        ));
    }
    out
}

/// Writes the corrected fields as the researcher's own (never overwritten
/// by collection again).
fn apply_corrections(
    tx: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    rid: ResearcherId,
    c: &[Correction],
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    if c.is_empty() {
        return Ok(());
    }
    let fields: Vec<Field> = c.iter().map(|(f, _)| *f).collect();
    let p = Provenance {
        provider: "researcher".into(),
        source_url: None,
    };
    for (field, value) in c {
        match value {
            Some(v) => {
                researchers::apply(tx, keys, rid, &[(*field, v.clone())], &p, now)?;
            }
            None => researchers::clear_field(tx, rid, *field, now)?,
        }
    }
    researchers::mark_edited(tx, rid, &fields)
}

/// Sends a fresh registration link for an expired or used one (the
/// researcher asked on the bad-link page). Refused once registered or opted out.
pub async fn renew(state: &AppState, token: &str, ip: Option<IpAddr>) -> AppResult<()> {
    let claims = match link_tokens::verify(&state.keys, token, link_tokens::REGISTER, state.now()) {
        Ok(c) => c,
        Err((LinkProblem::Expired, Some(c))) => c,
        Err((p, _)) => return Err(p.into_error()),
    };
    let rid = ResearcherId(claims.rid);
    let (row, status, user) = load(state, rid).await?;
    if status == "opted_out" || user.is_some() {
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
        .map(|_| ())
}

/// After a log-in: links profiles whose registration found this account.
pub fn claim_pending(
    tx: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    user: &users::UserRow,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<usize> {
    let Ok(email) = Email::parse(&user.email) else {
        return Ok(0);
    };
    let ids = repo::take_pending_claims(tx, &users::email_index(keys, &email))?;
    for rid in &ids {
        researchers::claim(tx, *rid, user.id.0, now)?;
        if let Some(latest) = repo::list(tx, Some(*rid), None, None, 1)?
            .into_iter()
            .find(|o| o.kind == "invitation")
        {
            repo::add_event(tx, latest.id, "registered", now)?;
        }
        if user.role == Role::User {
            users::set_role(tx, user.id, Role::Researcher, now)?;
        }
        let ev = audit::NewEvent {
            actor: Some(user.id),
            action: "researcher.claimed",
            target: Some(format!("researcher:{rid}")),
            detail: json!({}),
            ip: None,
        };
        audit::append(tx, keys, ev, now)?;
    }
    Ok(ids.len())
}
