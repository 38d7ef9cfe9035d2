//! Opening a dispute: only a participant of the session, once the session
//! took place (or, for its billing, once it was paid), within `[disputes]
//! window_days` of its end, one open dispute per session at a time.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{audit_in, jobs, side_of, views::SessionDisputes, Audited};
use crate::db::repos::consulting_sessions::SessionRow;
use crate::db::repos::disputes::{self as repo, NewDispute};
use crate::domain::dispute::{self, DisputeKind};
use crate::domain::{
    ConsultingSessionId, DisputeId, DisputeStatus, PaymentStatus, ReviewId, SessionStatus,
};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::services::accounts::Principal;
use crate::services::payments::held as payments;
use crate::services::sessions::{self, no_show::NO_SHOW_AFTER_MINUTES, Party};
use crate::state::AppState;

/// `POST /consulting/disputes` as given (checked by `open`).
#[derive(Debug, Clone)]
pub struct OpenRequest {
    pub session_id: ConsultingSessionId,
    /// `no_show`, `quality`, `billing` or `review`.
    pub kind: String,
    /// Required for, and only for, kind `review`.
    pub review_id: Option<ReviewId>,
    pub description: String,
}

/// A dispute just opened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Opened {
    pub id: DisputeId,
    /// `open`; the other participant is told at once, which moves it to
    /// `awaiting_response` (see `GET /consulting/disputes/{id}`).
    pub status: DisputeStatus,
}

/// Opens a dispute of a session the caller takes part in.
pub async fn open(state: &AppState, who: &Principal, req: OpenRequest) -> AppResult<Opened> {
    let (s, party) = sessions::load_for(state, who, req.session_id).await?;
    if party == Party::Admin {
        return Err(AppError::refused(
            "not_a_participant",
            "Only the reader or the researcher of a session can open a dispute about it.",
        ));
    }
    let mut errs = FieldErrors::new();
    let kind = errs.check(
        "kind",
        dispute::parse_kind(&req.kind).map_err(|_| format!("must be one of {}", dispute::kinds())),
    );
    let description = errs.check(
        "description",
        dispute::clean_text(&req.description, dispute::TEXT_MAX),
    );
    match (kind, req.review_id) {
        (Some(DisputeKind::Review), None) => {
            errs.add("review_id", "is required to dispute a review");
        }
        (Some(k), Some(_)) if k != DisputeKind::Review => {
            errs.add("review_id", "belongs only to a dispute of kind review");
        }
        (Some(DisputeKind::Review), Some(review)) => {
            let session = s.id;
            let ok = state
                .db
                .read(move |c| repo::is_review_of(c, review, session))
                .await?;
            if !ok {
                errs.add("review_id", "is not a review of this session");
            }
        }
        _ => {}
    }
    errs.into_result()?;
    let (Some(kind), Some(description)) = (kind, description) else {
        return Err(AppError::internal("checked fields went missing"));
    };
    let paid = paid(state, &s).await?;
    disputable(state, &s, kind, paid, state.now())?;
    let id = create(state, &s, party, who, kind, req.review_id, &description).await?;
    Ok(Opened {
        id,
        status: DisputeStatus::Open,
    })
}

/// Whether money was held or taken for the session.
async fn paid(state: &AppState, s: &SessionRow) -> AppResult<bool> {
    Ok(payments::of_session(state, s.id).await?.is_some_and(|p| {
        matches!(
            p.status,
            PaymentStatus::Authorized
                | PaymentStatus::Captured
                | PaymentStatus::PartiallyRefunded
                | PaymentStatus::Refunded
        )
    }))
}

/// The session took place: accepted and started, completed, or missed.
fn happened(s: &SessionRow, now: DateTime<Utc>) -> bool {
    match s.status {
        SessionStatus::Completed | SessionStatus::NoShow => true,
        SessionStatus::Accepted => now >= s.start,
        _ => false,
    }
}

/// The last moment a dispute of `s` may be opened.
pub(super) fn window_end(state: &AppState, s: &SessionRow) -> DateTime<Utc> {
    s.end + Duration::days(state.config.disputes.window_days)
}

/// Whether a dispute of `kind` may be opened on `s` now (409 otherwise).
fn disputable(
    state: &AppState,
    s: &SessionRow,
    kind: DisputeKind,
    paid: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let billing_of_paid = kind == DisputeKind::Billing && paid;
    if !(happened(s, now) || billing_of_paid) {
        return Err(AppError::conflict(
            "session_not_disputable",
            "This session has not taken place, so only its payment, if it was paid, can be disputed.",
        ));
    }
    if kind == DisputeKind::NoShow {
        if !matches!(s.status, SessionStatus::Accepted | SessionStatus::Completed) {
            return Err(AppError::conflict(
                "session_not_disputable",
                "This session is already recorded as a no-show.",
            ));
        }
        if now < s.start + Duration::minutes(NO_SHOW_AFTER_MINUTES) {
            return Err(AppError::conflict(
                "too_early_for_no_show",
                format!("A no-show can be reported from {NO_SHOW_AFTER_MINUTES} minutes after the start."),
            ));
        }
    }
    if now > window_end(state, s) {
        return Err(AppError::conflict(
            "dispute_window_closed",
            format!(
                "Disputes can be opened up to {} days after the session's end.",
                state.config.disputes.window_days
            ),
        ));
    }
    Ok(())
}

/// Stores a dispute a participant opens (checked by the caller), then
/// tells the other participant; answers its id.
pub(super) async fn create(
    state: &AppState,
    s: &SessionRow,
    party: Party,
    who: &Principal,
    kind: DisputeKind,
    review_id: Option<ReviewId>,
    description: &str,
) -> AppResult<DisputeId> {
    let side = side_of(party).ok_or(AppError::Forbidden)?;
    let (st, now, user, session) = (state.clone(), state.now(), who.user_id, s.id);
    let description = description.to_string();
    let id = state
        .db
        .write(move |tx| {
            let new = NewDispute {
                session_id: session,
                kind,
                review_id,
                opened_by: side,
                opener_id: Some(user),
                description: &description,
                status: DisputeStatus::Open,
            };
            let Some(id) = repo::insert(tx, &st.keys, &new, now)? else {
                return Err(super::already_open());
            };
            let d = super::reload(tx, &st, id)?;
            let e = Audited::by(Some(user), "dispute.opened", None)
                .with(json!({"opened_by": side, "chars": description.chars().count()}));
            audit_in(tx, &st, &d, e, now)?;
            Ok(id)
        })
        .await?;
    // The other participant is told in a step of its own; if it fails, the
    // disputes job tells them on its next run.
    if let Err(e) = jobs::tell(state, id, state.now()).await {
        tracing::warn!(dispute = %id, error = %e, "could not tell the other party yet");
    }
    crate::services::mail::wake(state);
    Ok(id)
}

/// What the session page offers about disputes to the caller.
pub async fn for_session(
    state: &AppState,
    who: &Principal,
    id: ConsultingSessionId,
) -> AppResult<SessionDisputes> {
    let (s, party) = sessions::load_for(state, who, id).await?;
    let (all, reviews) = state
        .db
        .read(move |c| Ok((repo::of_session(c, id)?, repo::reviews_of(c, id)?)))
        .await?;
    let open = all
        .iter()
        .find(|(_, _, status)| status.is_open())
        .map(|(id, ..)| *id);
    let now = state.now();
    let mut kinds = Vec::new();
    if party != Party::Admin && open.is_none() {
        let paid = paid(state, &s).await?;
        for k in DisputeKind::ALL {
            if *k == DisputeKind::Review && reviews.is_empty() {
                continue;
            }
            if disputable(state, &s, *k, paid, now).is_ok() {
                kinds.push(*k);
            }
        }
    }
    let reviews = reviews
        .into_iter()
        .map(|(rid, side, rating)| {
            let by = if side == "reader" {
                "the reader's review"
            } else {
                "the researcher's review"
            };
            (rid, format!("{by} ({rating} of 5)"))
        })
        .collect();
    Ok(SessionDisputes {
        open,
        until: (!kinds.is_empty()).then(|| window_end(state, &s)),
        kinds,
        reviews,
        all,
    })
}
