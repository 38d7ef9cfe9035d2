//! Signed links in e-mails: registration (single use, expiring) and
//! opt-out (long-lived, idempotent). HS256 JWTs signed with the keyring's
//! primary key; expiry is checked against the app's clock.

use serde::{Deserialize, Serialize};

use crate::crypto::{random_token, Keyring};
use crate::domain::ids::RowKey;
use crate::domain::{ConsultingSessionId, OutreachId, ResearcherId};
use crate::error::{AppError, AppResult};

pub const REGISTER: &str = "register";
pub const OPT_OUT: &str = "opt_out";
/// Accept or decline a session request from the e-mail (`oid` is the session).
pub const SESSION_RESPOND: &str = "session_respond";

/// Opt-out links keep working for ten years.
pub const OPT_OUT_TTL_DAYS: i64 = 3650;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkClaims {
    /// The researcher.
    pub rid: ResearcherId,
    /// What the link was sent with: the outreach (registration, opt-out)
    /// or the session (`SESSION_RESPOND`); read it with `outreach()` or
    /// `session()`.
    oid: i64,
    pub purpose: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    /// The blind index of the address the link was mailed to: a link only
    /// speaks for the mailbox that received it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcpt: Option<String>,
}

/// Why a link does not work, in words the page can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    Expired,
    Used,
    Tampered,
    WrongPurpose,
    /// The profile's address changed since the link was mailed.
    RecipientChanged,
    /// The profile has an owner already.
    AlreadyClaimed,
}

impl LinkProblem {
    pub fn code(self) -> &'static str {
        match self {
            LinkProblem::Expired => "link_expired",
            LinkProblem::Used => "link_used",
            LinkProblem::Tampered => "link_invalid",
            LinkProblem::WrongPurpose => "link_wrong_purpose",
            LinkProblem::RecipientChanged => "link_recipient_changed",
            LinkProblem::AlreadyClaimed => "already_claimed",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            LinkProblem::Expired => "This link has expired.",
            LinkProblem::Used => "This link was already used; each link works once.",
            LinkProblem::Tampered => {
                "This link is not valid: it may have been cut or changed on the way."
            }
            LinkProblem::WrongPurpose => "This link is meant for something else.",
            LinkProblem::RecipientChanged => {
                "This link was mailed to an address this profile no longer has, so it does not work any more. Ask for a new link: it goes to the profile's current address."
            }
            LinkProblem::AlreadyClaimed => {
                "This profile belongs to an account already. If it is yours, log in; if it is not, write to us."
            }
        }
    }

    pub fn into_error(self) -> AppError {
        if matches!(
            self,
            LinkProblem::RecipientChanged | LinkProblem::AlreadyClaimed
        ) {
            return AppError::conflict(self.code(), self.explanation());
        }
        AppError::Validation {
            message: self.explanation().into(),
            fields: [("token".to_string(), self.code().to_string())].into(),
        }
    }
}

/// A signed link for `purpose`, sent with `object` (the outreach, or the
/// session for `SESSION_RESPOND`); `recipient` is the blind index of the
/// address it is mailed to (checked again when the link is used).
pub fn issue(
    keys: &Keyring,
    researcher: ResearcherId,
    object: impl RowKey,
    purpose: &str,
    now: chrono::DateTime<chrono::Utc>,
    ttl_days: i64,
    recipient: Option<&str>,
) -> AppResult<String> {
    let ttl = if purpose == OPT_OUT {
        OPT_OUT_TTL_DAYS
    } else {
        ttl_days
    };
    let claims = LinkClaims {
        rid: researcher,
        oid: object.raw(),
        purpose: purpose.into(),
        jti: random_token(16),
        iat: now.timestamp(),
        exp: now.timestamp() + ttl * 86_400,
        rcpt: recipient.map(str::to_string),
    };
    crate::services::tokens::sign(keys, &claims)
}

/// Checks signature, purpose and expiry (not single use: see
/// `repos::outreach::use_token`). Expired links still name their
/// researcher, so the page can offer a new one.
pub fn verify(
    keys: &Keyring,
    token: &str,
    purpose: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<LinkClaims, (LinkProblem, Option<LinkClaims>)> {
    let claims: LinkClaims =
        crate::services::tokens::decode_signed(keys, token).ok_or((LinkProblem::Tampered, None))?;
    if claims.purpose != purpose {
        return Err((LinkProblem::WrongPurpose, None));
    }
    if claims.exp <= now.timestamp() {
        return Err((LinkProblem::Expired, Some(claims)));
    }
    Ok(claims)
}

impl LinkClaims {
    /// The outreach a registration or opt-out link was sent with.
    pub fn outreach(&self) -> OutreachId {
        OutreachId(self.oid)
    }

    /// The session a `SESSION_RESPOND` link answers.
    pub fn session(&self) -> ConsultingSessionId {
        ConsultingSessionId(self.oid)
    }

    /// Whether the link was mailed to the address whose blind index is
    /// `current` (links from before recipients were signed in never match).
    pub fn is_for(&self, current: Option<&str>) -> bool {
        matches!((self.rcpt.as_deref(), current), (Some(a), Some(b)) if crate::crypto::constant_time_eq(a.as_bytes(), b.as_bytes()))
    }
}
