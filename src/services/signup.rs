//! Signing up, and verified e-mail: while `[accounts] email_verification`
//! is on, a new account proves its address with a single-use link, and
//! registration answers the same whether or not the address has an
//! account. Sits above mail (it sends the links); accounts sits below.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde_json::json;

use crate::crypto::{random_token, token_hash};
use crate::db::repos::{audit, auth_sessions, email_verifications, users};
use crate::domain::{zone, Email, UserId};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{
    self, event, forget_sessions, validate, Principal, Registration, Valid,
};
use crate::services::link_tokens::LinkProblem;
use crate::services::mail::account_templates::{self, EmailVerification, RegistrationAttempt};
use crate::services::mail::{self, Outgoing};
use crate::state::AppState;

/// What a registration did.
pub enum SignUp {
    /// Verification is off: the account exists and may sign in.
    Created(accounts::Account),
    /// Verification is on: a mail to the address is queued (a link for a
    /// new account, a notice for an existing one; the caller cannot tell
    /// which), and either leaves the server or is held for an admin.
    VerificationSent(mail::Delivery),
}

/// Creates a user account (role `user`) and records the accepted terms.
/// While e-mail verification is on, the address gets a link (or, when it
/// has an account, a notice) and the answer is the same either way.
pub async fn register(state: &AppState, r: Registration, ip: Option<IpAddr>) -> AppResult<SignUp> {
    let v = validate(state, &r, true)?;
    if state.config.email_verification_on() {
        return register_verified(state, v, &r.password, ip).await;
    }
    let user = accounts::create_account(state, v, &r.password, ip).await?;
    Ok(SignUp::Created(user.into()))
}

/// Registration while verification is on. Every path hashes the password
/// and writes one transaction, so timing tells nothing either.
async fn register_verified(
    state: &AppState,
    v: Valid,
    password: &str,
    ip: Option<IpAddr>,
) -> AppResult<SignUp> {
    let Valid { email, name, zone } = v;
    let hash = state.passwords.hash(password).await?;
    let (st, keys, now) = (state.clone(), state.keys.clone(), state.now());
    let ttl = Duration::hours(state.config.accounts.verification_ttl_hours);
    let revoked = state
        .db
        .write(move |tx| {
            let accepted = crate::services::terms::accepted_now(
                &st.config.institution,
                crate::domain::ConsentSource::Registration,
            );
            let existing = users::find_by_email(tx, &keys, &email)?;
            // When an unconfirmed account stops holding its address.
            let unconfirmed_until = |u: &users::UserRow| {
                (!u.email_verified)
                    .then(|| crate::db::parse_ts(&u.created_at).ok().map(|t| t + ttl))
                    .flatten()
            };
            let (user, revoked, action) = match existing {
                None => {
                    let new = users::NewUser {
                        email: &email,
                        name: &name,
                        role: crate::domain::Role::User,
                        password_hash: &hash,
                        accepted: Some(accepted),
                        timezone: zone.name(),
                    };
                    (
                        users::insert(tx, &keys, &new, now)?,
                        Vec::new(),
                        "auth.register",
                    )
                }
                // Nobody proved the address within the link's lifetime: the
                // newest registration takes the unconfirmed account over.
                Some(u) if unconfirmed_until(&u).is_some_and(|t| t <= now) => {
                    users::replace_unverified(tx, u.id, &name, &hash, &accepted, zone.name(), now)?;
                    email_verifications::end_all(tx, u.id, now)?;
                    let revoked = auth_sessions::revoke_all_except(tx, u.id, None, now)?;
                    (u.id, revoked, "auth.register_replaced_unverified")
                }
                Some(u) => {
                    registration_attempt_in(tx, &st, &u, unconfirmed_until(&u), now)?;
                    audit::append(
                        tx,
                        &keys,
                        event(
                            None,
                            "auth.register_existing",
                            Some(format!("user:{}", u.id)),
                            json!({}),
                            ip,
                        ),
                        now,
                    )?;
                    return Ok(Vec::new());
                }
            };
            send_link_in(tx, &st, user, &name, &email, "register", now)?;
            audit::append(
                tx,
                &keys,
                event(
                    Some(user),
                    action,
                    Some(format!("user:{user}")),
                    json!({"verification": "sent"}),
                    ip,
                ),
                now,
            )?;
            Ok(revoked)
        })
        .await?;
    forget_sessions(state, revoked).await;
    mail::wake(state);
    Ok(SignUp::VerificationSent(mail::delivery(state)))
}

/// A new verification link for `user`, mailed inside the caller's transaction.
fn send_link_in(
    tx: &Connection,
    st: &AppState,
    user: UserId,
    name: &str,
    email: &Email,
    kind: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let token = random_token(32);
    let hours = st.config.accounts.verification_ttl_hours;
    let bidx = users::email_index(&st.keys, email);
    email_verifications::insert(
        tx,
        &token_hash(&token),
        user,
        &bidx,
        kind,
        now,
        now + Duration::hours(hours),
    )?;
    let content = account_templates::email_verification(&EmailVerification {
        institution: st.config.institution.brand(),
        name: name.to_string(),
        verify_url: format!("{}/verify-email/{token}", st.config.public_url()),
        valid_hours: hours,
        contact_email: st.config.institution.contact_email.clone(),
    })?;
    let msg = Outgoing {
        template: "email_verification",
        to: email.clone(),
        content,
    };
    mail::enqueue_unless_opted_out_in(tx, st, &msg, now)?;
    Ok(())
}

fn registration_attempt_in(
    tx: &Connection,
    st: &AppState,
    owner: &users::UserRow,
    unconfirmed_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let to = Email::parse(&owner.email).map_err(AppError::internal)?;
    let content = account_templates::registration_attempt(&RegistrationAttempt {
        institution: st.config.institution.brand(),
        name: owner.name.clone(),
        login_url: format!("{}/login", st.config.public_url()),
        contact_email: st.config.institution.contact_email.clone(),
        unconfirmed_until: unconfirmed_until
            .map(|t| zone::local_named(t, accounts::zone_of(owner))),
    })?;
    let msg = Outgoing {
        template: "registration_attempt",
        to,
        content,
    };
    mail::enqueue_unless_opted_out_in(tx, st, &msg, now)?;
    Ok(())
}

/// Checks a verification link without using it (the confirmation page).
pub async fn verification_link_valid(state: &AppState, token: &str) -> AppResult<()> {
    let (hash, now) = (token_hash(token), state.now());
    let found = state
        .db
        .read(move |c| email_verifications::find_valid(c, &hash, now))
        .await?;
    found.map(|_| ()).ok_or_else(link_problem)
}

fn link_problem() -> AppError {
    AppError::Validation {
        message: "This confirmation link is not valid any more: it was used, it expired, or it was cut on the way. Sign in and ask for a new one.".into(),
        fields: [("token".to_string(), LinkProblem::Tampered.code().to_string())].into(),
    }
}

/// Uses a verification link: the account now owns its address.
pub async fn verify_email(state: &AppState, token: &str, ip: Option<IpAddr>) -> AppResult<UserId> {
    let (hash, keys, now) = (token_hash(token), state.keys.clone(), state.now());
    state
        .db
        .write(move |tx| {
            let (user, bidx) =
                email_verifications::find_valid(tx, &hash, now)?.ok_or_else(link_problem)?;
            let account = users::find(tx, &keys, user)?.ok_or_else(link_problem)?;
            let current = Email::parse(&account.email).map(|e| users::email_index(&keys, &e));
            // A link only proves the address it was sent to.
            if current.as_deref() != Ok(bidx.as_str())
                || !email_verifications::consume(tx, &hash, now)?
            {
                return Err(link_problem());
            }
            if !account.email_verified {
                users::mark_email_verified(tx, user, now)?;
            }
            email_verifications::end_all(tx, user, now)?;
            audit::append(
                tx,
                &keys,
                event(
                    Some(user),
                    "auth.email_verified",
                    Some(format!("user:{user}")),
                    json!({}),
                    ip,
                ),
                now,
            )?;
            Ok(user)
        })
        .await
}

/// Mails a new verification link to the signed-in account (rate limited).
/// A new confirmation link; answers whether its mail leaves the server or
/// is held for an admin.
pub async fn resend_verification(state: &AppState, who: &Principal) -> AppResult<mail::Delivery> {
    if !state.config.email_verification_on() {
        return Err(AppError::conflict(
            "verification_off",
            "E-mail verification is off on this service: there is nothing to confirm.",
        ));
    }
    let (st, keys, now, id) = (state.clone(), state.keys.clone(), state.now(), who.user_id);
    let per_hour = i64::from(state.config.accounts.verification_resends_per_hour);
    state
        .db
        .write(move |tx| {
            let account = users::find(tx, &keys, id)?.ok_or(AppError::NotFound)?;
            if account.email_verified {
                return Err(AppError::conflict(
                    "already_verified",
                    "Your e-mail address is confirmed already.",
                ));
            }
            let since = now - Duration::hours(1);
            let (resent, oldest) = email_verifications::resends_since(tx, id, since)?;
            if resent >= per_hour {
                let oldest = oldest
                    .and_then(|t| crate::db::parse_ts(&t).ok())
                    .unwrap_or(now);
                let wait = (oldest + Duration::hours(1) - now).num_seconds().max(1);
                return Err(AppError::RateLimited {
                    retry_after_secs: wait as u64,
                });
            }
            let email = Email::parse(&account.email).map_err(AppError::internal)?;
            send_link_in(tx, &st, id, &account.name, &email, "resend", now)
        })
        .await?;
    mail::wake(state);
    Ok(mail::delivery(state))
}
