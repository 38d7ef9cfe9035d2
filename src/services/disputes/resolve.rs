//! What admins decide: take a dispute up (`under_review`) and resolve it.
//! Refunds go through the payments code (the money moves at Stripe first,
//! with its idempotency key; then the ledger row, the payment and the
//! credit note are recorded in the resolution's transaction). An upheld
//! no-show claim (uncontested, or decided so) makes the session a no-show
//! and applies the session refund policy. Removing a disputed review is
//! the reviews service's `moderation::remove_in`, in the same transaction.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{audit_in, check, find, notify, reload, settled, views, Audited, DisputeView};
use crate::db::repos::consulting_sessions::{self, SessionRow};
use crate::db::repos::disputes::{self as repo, DisputeRow, Resolution};
use crate::domain::dispute::{self, DisputeKind, DisputeOutcome, DisputeSide, Step};
use crate::domain::money::Money;
use crate::domain::{DisputeId, DisputeStatus, PaymentStatus, ReviewId, UserId};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::services::accounts::Principal;
use crate::services::payments::held as payments;
use crate::services::reviews;
use crate::services::sessions::{no_show as sessions_no_show, Party};
use crate::state::AppState;

/// The longest resolution note, in characters.
pub const NOTE_MAX: usize = 2000;

/// An admin takes a dispute up before its answer time ends.
pub async fn review(
    state: &AppState,
    admin: &Principal,
    id: DisputeId,
    ip: Option<IpAddr>,
) -> AppResult<DisputeView> {
    admin.require_admin()?;
    let d = settled(state, find(state, id).await?).await?;
    check(&d, Step::Review)?;
    let (st, now, actor) = (state.clone(), state.now(), admin.user_id);
    let d = state
        .db
        .write(move |tx| {
            let from = [DisputeStatus::Open, DisputeStatus::AwaitingResponse];
            if !repo::transition(tx, id, &from, DisputeStatus::UnderReview, now)? {
                check(&reload(tx, &st, id)?, Step::Review)?;
            }
            let d = reload(tx, &st, id)?;
            audit_in(
                tx,
                &st,
                &d,
                Audited::by(Some(actor), "dispute.under_review", ip),
                now,
            )?;
            notify::dispute_under_review(tx, &st, &d, false, now)?;
            Ok(d)
        })
        .await?;
    crate::services::mail::wake(state);
    Ok(views::view(d, Party::Admin, admin.user_id, None))
}

/// `POST /admin/disputes/{id}/resolve` as given (checked by `resolve`).
#[derive(Debug, Clone)]
pub struct ResolveRequest {
    pub outcome: String,
    /// Minor units; required for, and only for, `refund_partial`.
    pub amount_minor: Option<i64>,
    pub note: String,
}

/// The outcomes an admin may choose.
const CHOSEN: &[DisputeOutcome] = &[
    DisputeOutcome::RefundFull,
    DisputeOutcome::RefundPartial,
    DisputeOutcome::NoRefund,
    DisputeOutcome::RemoveReview,
    DisputeOutcome::ClaimUpheld,
];

/// The outcomes that fit a dispute, for a resolve form: a chargeback's
/// money moves at the bank, a no-show claim may be upheld, a disputed
/// review removed.
pub fn outcomes_for(d: &DisputeView) -> Vec<DisputeOutcome> {
    if d.opened_by == DisputeSide::Stripe {
        return vec![DisputeOutcome::NoRefund];
    }
    CHOSEN
        .iter()
        .copied()
        .filter(|o| match o {
            DisputeOutcome::ClaimUpheld => d.kind == DisputeKind::NoShow,
            DisputeOutcome::RemoveReview => d.review_id.is_some(),
            _ => true,
        })
        .collect()
}

fn chosen_list() -> String {
    CHOSEN
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a resolution changes besides the dispute, recorded in its
/// transaction.
enum Effect {
    Nothing,
    /// Money moved at Stripe first.
    Money(Moved),
    /// The disputed review is removed (`reviews::moderation::remove_in`).
    RemoveReview(ReviewId),
}

/// Money a resolution moved before it is recorded.
enum Moved {
    Refunded(Box<payments::Refunded>),
    /// A held card let go, in full (refunded if Stripe had captured it).
    Released(Money, payments::LetGo),
}

impl Moved {
    fn minor(&self) -> i64 {
        match self {
            Moved::Refunded(r) => r.amount.minor,
            Moved::Released(m, _) => m.minor,
        }
    }
}

/// An admin resolves a dispute (audited; both participants are told).
pub async fn resolve(
    state: &AppState,
    admin: &Principal,
    id: DisputeId,
    req: ResolveRequest,
    ip: Option<IpAddr>,
) -> AppResult<DisputeView> {
    admin.require_admin()?;
    let d = settled(state, find(state, id).await?).await?;
    let mut errs = FieldErrors::new();
    let outcome = errs.check(
        "outcome",
        req.outcome
            .trim()
            .parse::<DisputeOutcome>()
            .ok()
            .filter(|o| CHOSEN.contains(o))
            .ok_or_else(|| format!("must be one of {}", chosen_list())),
    );
    let note = errs.check("note", dispute::clean_text(&req.note, NOTE_MAX));
    match (outcome, req.amount_minor) {
        (Some(DisputeOutcome::RefundPartial), None) => {
            errs.add("amount_minor", "is required for a partial refund");
        }
        (Some(o), Some(_)) if o != DisputeOutcome::RefundPartial => {
            errs.add("amount_minor", "belongs only to a partial refund");
        }
        (Some(DisputeOutcome::ClaimUpheld), _) if d.kind != DisputeKind::NoShow => {
            errs.add("outcome", "claim_upheld is only for a no-show claim");
        }
        (Some(DisputeOutcome::RemoveReview), _) if d.kind != DisputeKind::Review => {
            errs.add(
                "outcome",
                "remove_review is only for a dispute about a review",
            );
        }
        _ => {}
    }
    errs.into_result()?;
    let (Some(outcome), Some(note)) = (outcome, note) else {
        return Err(AppError::internal("checked fields went missing"));
    };
    check(&d, Step::Resolve)?;
    if outcome.refunds() && d.opened_by == DisputeSide::Stripe {
        return Err(AppError::conflict(
            "chargeback_refund",
            "The money of a chargeback moves through the bank's dispute at Stripe, not a refund; resolve it with no_refund.",
        ));
    }
    if outcome.refunds() || outcome == DisputeOutcome::ClaimUpheld {
        // Money may move back to the reader: a refund by an admin.
        crate::services::accounts::reauth::require_recent(state, admin).await?;
    }
    let now = state.now();
    if outcome == DisputeOutcome::ClaimUpheld {
        uphold(state, &d, Some(admin.user_id), &note, ip, now).await?;
    } else {
        let session = session_of(state, &d).await?;
        let effect = match outcome {
            DisputeOutcome::RefundFull | DisputeOutcome::RefundPartial => {
                Effect::Money(refund(state, &session, req.amount_minor).await?)
            }
            DisputeOutcome::RemoveReview => Effect::RemoveReview(d.review_id.ok_or_else(|| {
                AppError::conflict("review_gone", "The disputed review no longer exists.")
            })?),
            _ => Effect::Nothing,
        };
        record(
            state,
            &d,
            &session,
            outcome,
            effect,
            admin.user_id,
            note,
            ip,
            now,
        )
        .await?;
    }
    crate::services::mail::wake(state);
    let d = find(state, id).await?;
    Ok(views::view(d, Party::Admin, admin.user_id, None))
}

async fn session_of(state: &AppState, d: &DisputeRow) -> AppResult<SessionRow> {
    let (keys, id) = (state.keys.clone(), d.session_id);
    state
        .db
        .read(move |c| consulting_sessions::find(c, &keys, id))
        .await?
        .ok_or_else(|| AppError::internal(format!("dispute {} has no session", d.id)))
}

fn nothing_to_refund() -> AppError {
    AppError::conflict(
        "nothing_to_refund",
        "This session has no payment left to refund.",
    )
}

/// Moves the money of a refund outcome at Stripe: all that is left of a
/// captured payment (`amount`: `None`), or `amount` of it; a card only
/// held is let go in full.
async fn refund(state: &AppState, s: &SessionRow, amount: Option<i64>) -> AppResult<Moved> {
    let p = payments::of_session(state, s.id)
        .await?
        .ok_or_else(nothing_to_refund)?;
    match p.status {
        PaymentStatus::Authorized => {
            if amount.is_some() {
                return Err(AppError::conflict(
                    "hold_not_captured",
                    "The reader's card is only held, not charged: release it in full with refund_full.",
                ));
            }
            let let_go = payments::release(state, s).await?;
            Ok(Moved::Released(p.amount(), let_go))
        }
        PaymentStatus::Captured | PaymentStatus::PartiallyRefunded => {
            let left = p.left();
            if left.minor <= 0 {
                return Err(nothing_to_refund());
            }
            let amount = amount.map_or(left, |minor| Money::new(minor, left.currency));
            if !(1..=left.minor).contains(&amount.minor) {
                return Err(AppError::field(
                    "amount_minor",
                    format!("must be between 1 and {} ({left})", left.minor),
                ));
            }
            payments::refund(state, s, p, amount)
                .await?
                .map(|r| Moved::Refunded(Box::new(r)))
                .ok_or_else(nothing_to_refund)
        }
        _ => Err(nothing_to_refund()),
    }
}

/// Records a resolution (and the money it moved, or the review it
/// removes) in one transaction.
#[allow(clippy::too_many_arguments)]
async fn record(
    state: &AppState,
    d: &DisputeRow,
    s: &SessionRow,
    outcome: DisputeOutcome,
    effect: Effect,
    admin: UserId,
    note: String,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (st, id, s) = (state.clone(), d.id, s.clone());
    state
        .db
        .write(move |tx| {
            let moved = match &effect {
                Effect::Money(m) => Some(m),
                _ => None,
            };
            let refund_minor = moved.map(Moved::minor);
            let r = Resolution {
                outcome,
                refund_minor,
                note: &note,
                by: Some(admin),
            };
            if !repo::resolve(tx, &st.keys, id, &r, now)? {
                if moved.is_some() {
                    tracing::error!(dispute = %id, "resolved by someone else after the money moved");
                }
                check(&reload(tx, &st, id)?, Step::Resolve)?;
            }
            match &effect {
                Effect::Money(Moved::Refunded(r)) => {
                    payments::record_refund_in(tx, &st, &s, r, now)?
                }
                Effect::Money(Moved::Released(_, let_go)) => {
                    payments::record_let_go_in(tx, &st, &s, Some(let_go), now)?
                }
                Effect::RemoveReview(review) => {
                    reviews::moderation::remove_in(tx, &st, *review, admin, &note, now)?
                }
                Effect::Nothing => {}
            }
            let d = reload(tx, &st, id)?;
            let e = Audited::by(Some(admin), "dispute.resolved", ip).with(json!({
                "outcome": outcome,
                "refund_minor": refund_minor,
                "note_chars": note.chars().count(),
            }));
            audit_in(tx, &st, &d, e, now)?;
            notify::dispute_resolved(tx, &st, &d, now)?;
            Ok(())
        })
        .await
}

/// A no-show claim stands: the session becomes a no-show of the party the
/// opener reported, the refund policy applies (a researcher who did not
/// come refunds the reader in full; a reader who did not come gets
/// nothing back), and the dispute is resolved `claim_upheld`. `by`: the
/// admin who decided, `None` when the answer time ran out.
pub(super) async fn uphold(
    state: &AppState,
    d: &DisputeRow,
    by: Option<UserId>,
    note: &str,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let absent = match d.opened_by {
        DisputeSide::Reader => Party::Researcher,
        DisputeSide::Researcher => Party::Reader,
        DisputeSide::Stripe => {
            return Err(AppError::internal("a chargeback is not a no-show claim"))
        }
    };
    let s = session_of(state, d).await?;
    let refunded = sessions_no_show::no_show_refund(state, &s, absent).await?;
    let (st, id, note) = (state.clone(), d.id, note.to_string());
    state
        .db
        .write(move |tx| {
            let r = Resolution {
                outcome: DisputeOutcome::ClaimUpheld,
                refund_minor: Some(refunded.as_ref().map_or(0, |r| r.amount.minor)),
                note: &note,
                by,
            };
            if !repo::resolve(tx, &st.keys, id, &r, now)? {
                check(&reload(tx, &st, id)?, Step::Resolve)?;
            }
            let actor = if by.is_some() { "admin" } else { "system" };
            sessions_no_show::record_no_show_in(
                tx,
                &st,
                &s,
                absent,
                actor,
                refunded.as_ref(),
                now,
            )?;
            let d = reload(tx, &st, id)?;
            let e = Audited::by(by, "dispute.resolved", ip).with(json!({
                "outcome": DisputeOutcome::ClaimUpheld,
                "absent": absent.as_str(),
                "refund_minor": d.refund_minor,
            }));
            audit_in(tx, &st, &d, e, now)?;
            notify::dispute_resolved(tx, &st, &d, now)?;
            Ok(())
        })
        .await?;
    crate::services::mail::wake(state);
    Ok(())
}
