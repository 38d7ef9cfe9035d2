//! An account's consents: the ledger folded into the current state of each
//! kind and the history (`list`), and giving or withdrawing one with its
//! effects (`change`). Accepting a version of the terms or the privacy
//! notice is `accept`. Withdrawing `researcher_listing` hides the profile
//! from search and booking at once and tells the researcher which sessions
//! are still open (`listing`); `review_reminders` and `product_email` stop
//! those mails.

mod change;
mod listing;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::repos::consents::{self as repo, ConsentRow};
use crate::db::repos::researchers;
use crate::domain::{ConsentAction, ConsentKind, ConsentSource, ResearcherId};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::services::terms;
use crate::state::AppState;

pub use change::{accept, grant, withdraw};
pub use listing::OpenSession;

/// One kind as it stands now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentState {
    pub kind: ConsentKind,
    /// Given now (for `terms` and `privacy_notice`: some version is
    /// accepted; compare `version` with `current_version`).
    pub granted: bool,
    /// The version given (terms and privacy notice; for a listing, the
    /// terms version it was given under).
    pub version: Option<String>,
    pub granted_at: Option<DateTime<Utc>>,
    /// When it was last withdrawn, if it is withdrawn now.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Where the latest change came from; null while the kind is at its
    /// default (`review_reminders` and `product_email` are on until
    /// withdrawn).
    pub source: Option<ConsentSource>,
    /// For `terms` and `privacy_notice`: the version in force now.
    pub current_version: Option<String>,
}

/// One period a consent was given (or a withdrawal without a recorded
/// grant before it), as the history shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentEntry {
    pub kind: ConsentKind,
    pub version: Option<String>,
    pub granted_at: Option<DateTime<Utc>>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Where it was given (or, for a withdrawal alone, withdrawn).
    pub source: ConsentSource,
    /// Where it was withdrawn, when it was.
    pub withdrawn_source: Option<ConsentSource>,
}

/// `GET /api/v1/users/me/consents`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Consents {
    /// Every kind that applies to the account (`researcher_listing` only
    /// with a researcher profile), in a fixed order.
    pub current: Vec<ConsentState>,
    /// Newest first.
    pub history: Vec<ConsentEntry>,
    /// While the listing is withdrawn: the sessions still open, which the
    /// researcher should answer, hold or cancel.
    pub open_sessions: Vec<OpenSession>,
}

/// Folds ledger rows (oldest first) into periods, newest first.
pub fn fold(rows: &[ConsentRow]) -> Vec<ConsentEntry> {
    let mut out: Vec<ConsentEntry> = Vec::new();
    for r in rows {
        match r.action {
            ConsentAction::Grant => out.push(ConsentEntry {
                kind: r.kind,
                version: r.version.clone(),
                granted_at: Some(r.at),
                withdrawn_at: None,
                source: r.source,
                withdrawn_source: None,
            }),
            ConsentAction::Withdraw => {
                let open = out
                    .iter_mut()
                    .rev()
                    .find(|e| e.kind == r.kind)
                    .filter(|e| e.withdrawn_at.is_none());
                match open {
                    Some(e) => {
                        e.withdrawn_at = Some(r.at);
                        e.withdrawn_source = Some(r.source);
                    }
                    None => out.push(ConsentEntry {
                        kind: r.kind,
                        version: r.version.clone(),
                        granted_at: None,
                        withdrawn_at: Some(r.at),
                        source: r.source,
                        withdrawn_source: Some(r.source),
                    }),
                }
            }
        }
    }
    out.reverse();
    out
}

/// The state of `kind` from the folded history (newest first).
fn state_of(state: &AppState, kind: ConsentKind, history: &[ConsentEntry]) -> ConsentState {
    let current_version = kind
        .document()
        .map(|d| terms::version_of(&state.config.institution, d).to_string());
    match history.iter().find(|e| e.kind == kind) {
        Some(e) => ConsentState {
            kind,
            granted: e.withdrawn_at.is_none() && e.granted_at.is_some(),
            version: e.version.clone(),
            granted_at: e.granted_at,
            withdrawn_at: e.withdrawn_at,
            source: Some(e.withdrawn_source.unwrap_or(e.source)),
            current_version,
        },
        None => ConsentState {
            kind,
            granted: kind.granted_by_default(),
            version: None,
            granted_at: None,
            withdrawn_at: None,
            source: None,
            current_version,
        },
    }
}

/// The caller's consents.
pub async fn list(state: &AppState, who: &Principal) -> AppResult<Consents> {
    let user = who.user_id;
    let (rows, profile) = state
        .db
        .read(move |c| Ok((repo::list(c, user)?, researchers::by_user(c, user)?)))
        .await?;
    let history = fold(&rows);
    let current = ConsentKind::ALL
        .iter()
        .filter(|k| {
            **k != ConsentKind::ResearcherListing
                || profile.is_some()
                || history.iter().any(|e| e.kind == **k)
        })
        .map(|k| state_of(state, *k, &history))
        .collect::<Vec<_>>();
    let withdrawn = current
        .iter()
        .any(|s| s.kind == ConsentKind::ResearcherListing && !s.granted);
    let open_sessions = match profile {
        Some(rid) if withdrawn => listing::open_sessions(state, rid).await?,
        _ => Vec::new(),
    };
    Ok(Consents {
        current,
        history,
        open_sessions,
    })
}

/// A kind named in a path: 422 naming the kinds when it is none.
pub fn parse_kind(kind: &str) -> AppResult<ConsentKind> {
    kind.parse().map_err(|_| {
        AppError::field(
            "kind",
            format!(
                "`{kind}` is no consent kind; one of {}",
                ConsentKind::list()
            ),
        )
    })
}

/// The caller's researcher profile, for `researcher_listing`.
fn profile_required(profile: Option<ResearcherId>) -> AppResult<ResearcherId> {
    profile.ok_or_else(|| {
        AppError::conflict(
            "no_researcher_profile",
            "Only an account with a researcher profile gives or withdraws the consent to be listed.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: ConsentKind, action: ConsentAction, minute: u32) -> ConsentRow {
        ConsentRow {
            kind,
            action,
            version: None,
            at: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 1, 0, minute, 0).unwrap(),
            source: ConsentSource::Api,
        }
    }

    #[test]
    fn a_withdrawal_closes_the_open_grant_and_a_lone_one_stands_alone() {
        use ConsentAction::*;
        use ConsentKind::*;
        let rows = [
            row(ReviewReminders, Withdraw, 1),
            row(ProductEmail, Grant, 2),
            row(ProductEmail, Withdraw, 3),
            row(ProductEmail, Grant, 4),
        ];
        let h = fold(&rows);
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].kind, ProductEmail);
        assert!(h[0].withdrawn_at.is_none());
        assert!(h[1].granted_at.is_some() && h[1].withdrawn_at.is_some());
        assert_eq!(h[2].kind, ReviewReminders);
        assert!(h[2].granted_at.is_none() && h[2].withdrawn_at.is_some());
    }
}
