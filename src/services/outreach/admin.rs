//! Outreach as the admins run it: invite by a hand-set address, invite a
//! whole paper's authors, and the demand and history pages.

use std::net::IpAddr;

use super::{request, DemandView, InvitationView, OutreachView};
use crate::db::repos::outreach::{self as repo, Demand, OutreachRow};
use crate::db::repos::researchers;
use crate::domain::{PaperId, ResearcherId};
use crate::error::AppResult;
use crate::services::accounts::Principal;
use crate::state::AppState;

/// "Invite by e-mail" (admins): sets the address by hand (audited, never
/// overwritten by collection), then invites as usual.
pub async fn invite_by_email(
    state: &AppState,
    admin: &Principal,
    researcher: ResearcherId,
    email: &str,
    paper: Option<PaperId>,
    ip: Option<IpAddr>,
) -> AppResult<OutreachView> {
    crate::services::claims::admin_set_email(state, admin, researcher, email, ip).await?;
    request(state, admin, researcher, paper, None, ip).await
}

/// Invites every author of a paper that can be invited (admins); returns
/// per researcher their invitation, or in words why there is none.
pub async fn invite_paper(
    state: &AppState,
    who: &Principal,
    paper: PaperId,
    ip: Option<IpAddr>,
) -> AppResult<Vec<(String, Result<OutreachView, String>)>> {
    who.require_admin()?;
    let keys = state.keys.clone();
    let authors = state
        .db
        .read(move |c| researchers::for_paper(c, &keys, paper, None, 200, true))
        .await?;
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (_, r) in authors {
        if seen.contains(&r.id) {
            continue;
        }
        seen.push(r.id);
        let outcome = request(state, who, r.id, Some(paper), None, ip)
            .await
            .map_err(|e| e.public_message());
        out.push((r.name, outcome));
    }
    Ok(out)
}

pub async fn demand(state: &AppState, who: &Principal) -> AppResult<(Vec<DemandView>, i64)> {
    who.require_admin()?;
    let (rows, suppressed): (Vec<Demand>, i64) = state
        .db
        .read(|c| Ok((repo::demand(c, 200)?, repo::suppression_count(c)?)))
        .await?;
    Ok((rows.into_iter().map(DemandView::from).collect(), suppressed))
}

pub async fn history(
    state: &AppState,
    who: &Principal,
    researcher: Option<ResearcherId>,
) -> AppResult<Vec<InvitationView>> {
    who.require_admin()?;
    let rows: Vec<OutreachRow> = state
        .db
        .read(move |c| repo::list(c, researcher, None, None, 200))
        .await?;
    Ok(rows.into_iter().map(InvitationView::from).collect())
}
