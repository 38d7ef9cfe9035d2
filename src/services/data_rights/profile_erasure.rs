//! Erasure (GDPR Art. 17) of a researcher profile whose person never
//! signed up: a profile collected from public sources that no account
//! owns. An admin does it on the person's request; a profile an account
//! owns is that account's business (its owner, or an admin deleting the
//! account, releases it first).
//!
//! One transaction erases the profile's personal data everywhere
//! (`db::repos::researchers::erasure`), puts its address on the
//! suppression list and its ORCID iD and OpenAlex id on the do-not-collect
//! list (so outreach never writes and collection never rebuilds it), and
//! writes one audit row (`researcher.erased`: who, when, counts, no
//! values). Then the profile's data key goes and every cached view of it.

use std::net::IpAddr;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::crypto::Subject;
use crate::db::encrypted_columns;
use crate::db::repos::do_not_collect::{self, Identity};
use crate::db::repos::researchers::erasure::{self as repo, Target};
use crate::db::repos::{account_removal, audit, outreach, users};
use crate::domain::{PaperId, ResearcherId};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{event, reauth, Principal};
use crate::state::AppState;

/// The reason stored with the address (suppression list) and the
/// identities (do-not-collect list).
pub const REASON: &str = "erased";

/// What an erasure did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileErased {
    pub researcher_id: ResearcherId,
    /// The profile's address went on the suppression list. False when it
    /// had none, or when an account holds that address (its own mail must
    /// still reach it; collection cannot rebuild the profile anyway).
    pub address_suppressed: bool,
    /// How many identities (ORCID iD, OpenAlex id) went on the
    /// do-not-collect list. With none, a later collection can only
    /// recognise the person by name: it may build a new profile, which
    /// the suppression list still keeps from being invited.
    pub identities_listed: usize,
    /// Papers whose author list now shows the author as removed at their
    /// request.
    pub papers: usize,
}

/// Erases researcher profile `id` (admins; a recent password when
/// `[security] admin_require_reauth_minutes` says so). 404 for an unknown
/// profile, 409 `profile_owned` for one an account owns, 409
/// `already_erased` for one erased before.
pub async fn erase_profile(
    state: &AppState,
    admin: &Principal,
    id: ResearcherId,
    ip: Option<IpAddr>,
) -> AppResult<ProfileErased> {
    admin.require_admin()?;
    reauth::require_recent(state, admin).await?;
    let (keys, now, actor) = (state.keys.clone(), state.now(), admin.user_id);
    let (done, erased) = state
        .db
        .write(move |tx| {
            let t = repo::target(tx, id)?.ok_or(AppError::NotFound)?;
            if let Some(owner) = t.owner.filter(|_| !t.erased) {
                return Err(AppError::conflict(
                    "profile_owned",
                    format!("This profile belongs to account {owner}. Its owner erases their data from their account, or an admin deletes that account; its profile is then released and can be erased here."),
                ));
            }
            let erased = erase_in(tx, &keys, id, now)?;
            let detail = json!({
                "erased": erased.rows,
                "papers": erased.done.papers,
                "address_suppressed": erased.done.address_suppressed,
                "identities_listed": erased.done.identities_listed,
                "values_blanked": erased.values_blanked,
            });
            let target = Some(format!("researcher:{id}"));
            let ev = event(Some(actor), "researcher.erased", target, detail, ip);
            audit::append(tx, &keys, ev, now)?;
            Ok((erased.done.clone(), erased))
        })
        .await?;
    after_commit(state, &erased).await?;
    tracing::info!(researcher_id = %id, "researcher profile erased");
    Ok(done)
}

/// What one profile's erasure did, and what is left to do once its
/// transaction commits.
pub(crate) struct ProfileErasure {
    pub done: ProfileErased,
    pub rows: repo::Erased,
    pub values_blanked: usize,
    /// The profile and those merged into it: their data keys go.
    pub subjects: Vec<Subject>,
    target: Target,
    papers: Vec<PaperId>,
}

/// Erases profile `id` in the caller's transaction (the admin's erasure
/// above, and an account's erasure for the profile it owns): every value
/// under its keys blanked, its rows erased, its address suppressed and its
/// identities on the do-not-collect list. 409 `already_erased` for one
/// erased before. The caller checks who may, audits, and then calls
/// `after_commit`.
pub(crate) fn erase_in(
    tx: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    id: ResearcherId,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<ProfileErasure> {
    let t = repo::target(tx, id)?.ok_or(AppError::NotFound)?;
    if t.erased {
        return Err(AppError::conflict(
            "already_erased",
            "This profile was erased already.",
        ));
    }
    // Read before the erase drops the merge records.
    let mut subjects = vec![Subject::Researcher(id)];
    subjects.extend(
        account_removal::merged_into(tx, id)?
            .into_iter()
            .map(Subject::Researcher),
    );
    let mut values_blanked = 0;
    for s in &subjects {
        values_blanked += encrypted_columns::blank_subject(tx, keys, &s.to_string())?;
    }
    let (rows, papers) = repo::erase(tx, id, now)?;
    let address_suppressed = match &t.email_bidx {
        Some(bidx) if !users::exists_with_index(tx, bidx)? => {
            outreach::suppress(tx, bidx, REASON, now)?;
            true
        }
        _ => false,
    };
    let identities: Vec<Identity<'_>> = [
        t.orcid.as_deref().map(Identity::Orcid),
        t.openalex_id.as_deref().map(Identity::OpenAlex),
    ]
    .into_iter()
    .flatten()
    .collect();
    for identity in &identities {
        do_not_collect::add(tx, keys, *identity, REASON, now)?;
    }
    let done = ProfileErased {
        researcher_id: id,
        address_suppressed,
        identities_listed: identities.len(),
        papers: papers.len(),
    };
    Ok(ProfileErasure {
        done,
        rows,
        values_blanked,
        subjects,
        target: t,
        papers,
    })
}

/// After the erasing transaction: the profile's data keys are destroyed
/// (crypto-shredding: copies in backups stop decrypting too), and every
/// cached view of it goes.
pub(crate) async fn after_commit(state: &AppState, e: &ProfileErasure) -> AppResult<()> {
    super::shred::shred(state, &e.subjects).await?;
    forget(state, e).await;
    Ok(())
}

/// The cached views of an erased profile go (its keys are the caller's).
pub(crate) async fn forget(state: &AppState, e: &ProfileErasure) {
    forget_cached(state, &e.target, &e.papers).await;
}

/// Drops what the caches hold about the profile: the papers it was an
/// author of (their author lists changed) and the providers' answers
/// about the person. Profile views, search and dashboards are read from
/// the database (or recomputed on its change), so they are current now.
async fn forget_cached(state: &AppState, t: &Target, papers: &[PaperId]) {
    for paper in papers {
        state.cache.papers.invalidate(paper).await;
    }
    state
        .provider_cache
        .forget_person(&t.name, t.openalex_id.as_deref(), t.orcid.as_deref());
}

/// What an admin is shown before erasing a profile.
#[derive(Debug, Clone)]
pub struct ErasurePreview {
    pub researcher_id: ResearcherId,
    pub name: String,
    pub affiliation: Option<String>,
    /// The account that owns it (then it cannot be erased here).
    pub owner: Option<crate::domain::UserId>,
    pub has_address: bool,
    /// ORCID iD and OpenAlex id known (what the do-not-collect list gets).
    pub identities: usize,
    /// Titles of the papers it is an author of (at most 20).
    pub papers: Vec<String>,
}

/// The profile as the confirmation page shows it (admins). 404 for an
/// unknown or already erased profile.
pub async fn preview(
    state: &AppState,
    admin: &Principal,
    id: ResearcherId,
) -> AppResult<ErasurePreview> {
    admin.require_admin()?;
    state
        .db
        .read(move |c| {
            let t = repo::target(c, id)?
                .filter(|t| !t.erased)
                .ok_or(AppError::NotFound)?;
            let papers = crate::db::repos::papers::for_researcher(c, id, 20)?
                .into_iter()
                .map(|(_, title, _)| title)
                .collect();
            Ok(ErasurePreview {
                researcher_id: id,
                identities: usize::from(t.orcid.is_some()) + usize::from(t.openalex_id.is_some()),
                has_address: t.email_bidx.is_some(),
                owner: t.owner,
                name: t.name,
                affiliation: t.affiliation,
                papers,
            })
        })
        .await
}
