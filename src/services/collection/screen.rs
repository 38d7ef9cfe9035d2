//! The do-not-collect list at work: an author whose ORCID iD or OpenAlex
//! author id is on it (their profile was erased at their request) gets no
//! profile, no authorship and no provider lookups. A new author is
//! screened before anything is written, by the paper's ORCID and then by
//! the identity OpenAlex gives them (the same call the OpenAlex step
//! makes next, so it is answered from the cache); what a step finds later
//! is checked again before it is written (`names_listed`).
//!
//! While the list is empty nobody needs screening. When it is not and
//! OpenAlex cannot be asked, a new author without a listed ORCID is not
//! collected (the step fails and a retry screens again): collecting
//! someone who asked not to be would be the worse mistake.

use rusqlite::Connection;

use super::author_lookup::{find_author, Wanted};
use super::calls::{self, Called, Gate, Provider};
use super::pipeline::AuthorInput;
use crate::crypto::Keyring;
use crate::db::repos::collection_jobs;
use crate::db::repos::do_not_collect::{self, Identity};
use crate::domain::researcher::{Field, FieldValue};
use crate::domain::{JobId, ResearcherId};
use crate::error::AppResult;
use crate::providers::openalex::Author;
use crate::providers::ProviderError;
use crate::state::AppState;

/// Why an author is not collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// On the do-not-collect list.
    Listed,
    /// The list could not be checked.
    Unchecked,
}

/// Screens a new author (not linked to a profile yet); when they are not
/// to be collected, saves their `identify` step saying why. `None`: go on.
pub(super) async fn before_identify(
    state: &AppState,
    job: JobId,
    author: &AuthorInput,
) -> AppResult<Option<Stop>> {
    let (outcome, detail, stop) = match screen(state, author).await? {
        Screen::Clear => return Ok(None),
        Screen::Listed => ("skipped", LISTED.to_string(), Stop::Listed),
        Screen::Unchecked(why) => (
            "failed",
            format!("the do-not-collect list could not be checked: {why}"),
            Stop::Unchecked,
        ),
    };
    let (index, now) = (author.index, state.now());
    state
        .db
        .write(move |tx| {
            collection_jobs::save_step(
                tx,
                job,
                index,
                "identify",
                None,
                outcome,
                Some(&detail),
                1,
                0,
                now,
            )
        })
        .await?;
    Ok(Some(stop))
}

/// Saves `step` and every provider step after it as skipped for a listed
/// identity, in the transaction that found it, so a resumed job runs none
/// of them either.
#[allow(clippy::too_many_arguments)]
pub(super) fn skip_rest(
    conn: &Connection,
    job: JobId,
    index: i64,
    step: &str,
    researcher: ResearcherId,
    ms: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let rest = Provider::ALL
        .iter()
        .skip_while(|p| p.as_str() != step)
        .map(|p| p.as_str());
    for (i, provider) in rest.enumerate() {
        let ms = if i == 0 { ms } else { 0 };
        collection_jobs::save_step(
            conn,
            job,
            index,
            provider,
            Some(researcher),
            "skipped",
            Some(LISTED),
            1,
            ms,
            now,
        )?;
    }
    Ok(())
}

/// What the screen says about a new author.
enum Screen {
    /// Not on the list (or the list is empty): collect them.
    Clear,
    /// On the list: write nothing.
    Listed,
    /// The list could not be checked, for this reason: write nothing now.
    Unchecked(String),
}

/// The detail saved on the steps of a listed author.
const LISTED: &str = "on the do-not-collect list: their profile was erased at their request";

async fn screen(state: &AppState, author: &AuthorInput) -> AppResult<Screen> {
    let (keys, orcid) = (state.keys.clone(), author.orcid.clone());
    let (empty, listed) = state
        .db
        .read(move |c| {
            if do_not_collect::is_empty(c)? {
                return Ok((true, false));
            }
            let ids: Vec<Identity<'_>> =
                orcid.as_deref().map(Identity::Orcid).into_iter().collect();
            Ok((false, do_not_collect::any_listed(c, &keys, &ids)?))
        })
        .await?;
    if empty {
        return Ok(Screen::Clear);
    }
    if listed {
        return Ok(Screen::Listed);
    }
    match calls::gate(state, Provider::OpenAlex).await? {
        Gate::Open => {}
        Gate::Unavailable(reason) => {
            return Ok(Screen::Unchecked(format!(
                "OpenAlex is unavailable: {reason}"
            )))
        }
        Gate::NoKey | Gate::OverBudget(_) => {
            return Ok(Screen::Unchecked("OpenAlex cannot be asked".into()))
        }
    }
    let affiliation = author.affiliation.clone().unwrap_or_default();
    let wanted = Wanted {
        openalex_id: None,
        orcid: author.orcid.as_deref(),
        name: &author.name,
        affiliation: &affiliation,
    };
    let found = match find_author(state, &wanted).await? {
        Ok(Called { value, .. }) => value,
        Err(ProviderError::NotFound { .. }) => None,
        Err(e) => return Ok(Screen::Unchecked(format!("OpenAlex did not answer: {e}"))),
    };
    let Some(a) = found else {
        // OpenAlex knows nobody by that name: there is no identity to match.
        return Ok(Screen::Clear);
    };
    Ok(if author_listed(state, &a).await? {
        Screen::Listed
    } else {
        Screen::Clear
    })
}

/// Whether the author OpenAlex gave (its id or ORCID) is on the list.
pub(super) async fn author_listed(state: &AppState, a: &Author) -> AppResult<bool> {
    let keys = state.keys.clone();
    let (id, orcid) = (a.id.clone(), a.orcid.clone());
    state
        .db
        .read(move |c| {
            let mut ids = vec![Identity::OpenAlex(&id)];
            ids.extend(orcid.as_deref().map(Identity::Orcid));
            do_not_collect::any_listed(c, &keys, &ids)
        })
        .await
}

/// Whether a step's values name an identity on the list (checked in the
/// transaction that would write them).
pub(super) fn names_listed(
    conn: &Connection,
    keys: &Keyring,
    values: &[(Field, FieldValue)],
) -> AppResult<bool> {
    let ids: Vec<Identity<'_>> = values
        .iter()
        .filter_map(|(field, value)| match (field, value) {
            (Field::Orcid, FieldValue::Text(t)) => Some(Identity::Orcid(t)),
            (Field::OpenalexId, FieldValue::Text(t)) => Some(Identity::OpenAlex(t)),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(false);
    }
    do_not_collect::any_listed(conn, keys, &ids)
}
