//! What participants do to a dispute besides writing: the opener
//! withdraws it; the other participant contests a no-show claim.

use serde_json::json;

use super::{
    audit_in, check, ensure_open, load, notify, party_for, reload, side_of, views, Audited,
    DisputeView,
};
use crate::db::repos::disputes as repo;
use crate::domain::dispute::{self, DisputeKind, MessageAuthor, Step};
use crate::domain::{DisputeId, DisputeStatus};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// The opener takes the dispute back, while it is not resolved.
pub async fn withdraw(state: &AppState, who: &Principal, id: DisputeId) -> AppResult<DisputeView> {
    let (d, party) = load(state, who, id).await?;
    ensure_open(&d)?;
    if d.opener_id != Some(who.user_id) || side_of(party).is_none() {
        return Err(AppError::conflict(
            "not_the_opener",
            "Only the participant who opened a dispute can withdraw it.",
        ));
    }
    let (st, now, user) = (state.clone(), state.now(), who.user_id);
    let d = state
        .db
        .write(move |tx| {
            let open = [
                DisputeStatus::Open,
                DisputeStatus::AwaitingResponse,
                DisputeStatus::UnderReview,
            ];
            if !repo::transition(tx, id, &open, DisputeStatus::Withdrawn, now)? {
                check(&reload(tx, &st, id)?, Step::Withdraw)?;
            }
            let d = reload(tx, &st, id)?;
            audit_in(
                tx,
                &st,
                &d,
                Audited::by(Some(user), "dispute.withdrawn", None),
                now,
            )?;
            notify::dispute_withdrawn(tx, &st, &d, now)?;
            Ok(d)
        })
        .await?;
    crate::services::mail::wake(state);
    Ok(views::view(d, party, who.user_id, None))
}

/// The reported participant contests a no-show claim before it stands,
/// optionally saying why; an admin then decides.
pub async fn contest(
    state: &AppState,
    who: &Principal,
    id: DisputeId,
    text: Option<&str>,
) -> AppResult<DisputeView> {
    let (d, party) = load(state, who, id).await?;
    ensure_open(&d)?;
    if d.kind != DisputeKind::NoShow {
        return Err(AppError::conflict(
            "not_a_no_show_claim",
            "Only a no-show claim is contested; answer other disputes with a message.",
        ));
    }
    if d.opened_by.other().and_then(party_for) != Some(party) {
        return Err(AppError::conflict(
            "not_the_other_party",
            "Only the participant reported missing can contest a no-show claim.",
        ));
    }
    check(&d, Step::Contest)?;
    let text = match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(
            dispute::clean_text(t, dispute::TEXT_MAX).map_err(|m| AppError::field("text", m))?,
        ),
        None => None,
    };
    let role = side_of(party).map_or(MessageAuthor::Admin, MessageAuthor::from);
    let (st, now, user) = (state.clone(), state.now(), who.user_id);
    let d = state
        .db
        .write(move |tx| {
            let waiting = [DisputeStatus::Open, DisputeStatus::AwaitingResponse];
            if !repo::transition(tx, id, &waiting, DisputeStatus::UnderReview, now)? {
                check(&reload(tx, &st, id)?, Step::Contest)?;
            }
            if let Some(t) = &text {
                repo::insert_message(tx, &st.keys, id, Some(user), role, t, now)?;
            }
            let d = reload(tx, &st, id)?;
            let e = Audited::by(Some(user), "dispute.contested", None)
                .with(json!({"with_message": text.is_some()}));
            audit_in(tx, &st, &d, e, now)?;
            notify::dispute_contested(tx, &st, &d, now)?;
            Ok(d)
        })
        .await?;
    crate::services::mail::wake(state);
    Ok(views::view(d, party, who.user_id, None))
}
