//! `POST /consulting/sessions/{id}/no-show`: a participant's report that
//! the other did not come is a claim, a `no_show` dispute the other side
//! may contest for `[disputes] no_show_response_hours`; uncontested it
//! stands (`jobs`), contested an admin decides. The session stays
//! accepted meanwhile and is not completed. Admins, who decide, still
//! record a no-show at once (`sessions::no_show::no_show`).

use serde::Serialize;
use utoipa::ToSchema;

use super::already_open;
use super::open::create;
use crate::db::repos::disputes as repo;
use crate::domain::dispute::DisputeKind;
use crate::domain::{ConsultingSessionId, DisputeId};
use crate::error::AppResult;
use crate::services::accounts::Principal;
use crate::services::sessions::actions::{self, Action};
use crate::services::sessions::{self, no_show as sessions_no_show, Party, SessionView};
use crate::state::AppState;

/// The session after a no-show report, and the claim it opened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoShowAnswer {
    #[serde(flatten)]
    pub session: SessionView,
    /// The `no_show` dispute a participant's report opened (the session
    /// stays `accepted` until the claim is decided); null when an admin
    /// recorded the no-show at once.
    pub dispute_id: Option<DisputeId>,
}

pub async fn report(
    state: &AppState,
    who: &Principal,
    id: ConsultingSessionId,
    absent: Option<Party>,
) -> AppResult<NoShowAnswer> {
    let (s, party) = sessions::load_for(state, who, id).await?;
    let open = state.db.read(move |c| repo::open_of_session(c, id)).await?;
    if party == Party::Admin {
        if open.is_some() {
            return Err(already_open());
        }
        let session = actions::act(state, who, id, Action::NoShow { absent }).await?;
        return Ok(NoShowAnswer {
            session,
            dispute_id: None,
        });
    }
    let now = state.now();
    let absent = sessions_no_show::no_show_reportable(state, &s, party, absent, now)?;
    if open.is_some() {
        return Err(already_open());
    }
    let description = format!(
        "The {} reports that the {} did not come to the session.",
        party.as_str(),
        absent.as_str()
    );
    let dispute = create(
        state,
        &s,
        party,
        who,
        DisputeKind::NoShow,
        None,
        &description,
    )
    .await?;
    Ok(NoShowAnswer {
        session: sessions::view(s, party, state.now(), &state.config.sessions),
        dispute_id: Some(dispute),
    })
}
