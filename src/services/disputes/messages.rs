//! Messages of a dispute between its participants and admins, encrypted
//! at rest. The other participant's first message is their answer: the
//! dispute goes to an admin (for a no-show claim, it contests the claim).

use serde_json::json;

use super::{audit_in, ensure_open, load, notify, reload, side_of, Audited, MessageView};
use crate::db::repos::disputes as repo;
use crate::domain::dispute::{self, MessageAuthor};
use crate::domain::{DisputeId, DisputeStatus};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// Adds the caller's message to a dispute that is still open.
pub async fn post(
    state: &AppState,
    who: &Principal,
    id: DisputeId,
    text: &str,
) -> AppResult<MessageView> {
    let (d, party) = load(state, who, id).await?;
    ensure_open(&d)?;
    let text =
        dispute::clean_text(text, dispute::TEXT_MAX).map_err(|m| AppError::field("text", m))?;
    let role = match side_of(party) {
        Some(side) => MessageAuthor::from(side),
        None => MessageAuthor::Admin,
    };
    let answering = side_of(party).is_some() && d.opened_by.other() == side_of(party);
    let (st, now, user) = (state.clone(), state.now(), who.user_id);
    let message = state
        .db
        .write(move |tx| {
            let d = reload(tx, &st, id)?;
            ensure_open(&d)?;
            let mid = repo::insert_message(tx, &st.keys, id, Some(user), role, &text, now)?;
            let waiting = [DisputeStatus::Open, DisputeStatus::AwaitingResponse];
            if answering && repo::transition(tx, id, &waiting, DisputeStatus::UnderReview, now)? {
                let d = reload(tx, &st, id)?;
                let e = Audited::by(Some(user), "dispute.answered", None).with(json!({"by": role}));
                audit_in(tx, &st, &d, e, now)?;
            }
            notify::dispute_message(tx, &st, &d, party, now)?;
            let all = repo::messages(tx, &st.keys, id)?;
            all.into_iter()
                .find(|m| m.id == mid)
                .map(MessageView::from)
                .ok_or_else(|| AppError::internal("the message just written is gone"))
        })
        .await?;
    crate::services::mail::wake(state);
    Ok(message)
}
