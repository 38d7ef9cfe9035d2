//! `/admin/data-subjects`: find a person to answer a data-rights request
//! (by e-mail address or name, also researchers who never signed up),
//! download their copy, and erase the profile of someone who never signed
//! up (`services::data_rights`).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::outcome::flash_failure;
use super::reauth::ReauthForm;
use super::PageError;
use crate::domain::ResearcherId;
use crate::error::AppError;
use crate::http::extractors::{AppPath, AppQuery, ClientIp};
use crate::services::data_rights::{self, DataSubject, ErasurePreview, ProfileErased};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_data_subjects.html")]
pub struct DataSubjectsPage {
    pub layout: Layout,
    pub q: String,
    /// None before a search.
    pub found: Option<Vec<DataSubject>>,
    pub error: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    pub q: Option<String>,
}

pub async fn subjects_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppQuery(query): AppQuery<SearchQuery>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/data-subjects")?;
    let q = query.q.unwrap_or_default();
    let (found, error) = if q.trim().is_empty() {
        (None, None)
    } else {
        match data_rights::subjects::find(&state, &who, &q).await {
            Ok(found) => (Some(found), None),
            Err(AppError::Validation { fields, .. }) => {
                (None, fields.get("q").map(|m| sentence(m)))
            }
            Err(e) => return Err(e.into()),
        }
    };
    Ok(render(&DataSubjectsPage {
        layout: viewer.layout("Data subjects".to_string()),
        q,
        found,
        error,
    }))
}

/// The subject's copy as a file (the same as the API's).
pub async fn export_get(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath((kind, id)): AppPath<(String, i64)>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/data-subjects")?;
    let doc = data_rights::export_subject(&state, &who, &kind, id, ip).await?;
    Ok(crate::http::api::data_rights::attachment(&doc)?)
}

#[derive(Template)]
#[template(path = "pages/admin_erase_profile.html")]
pub struct EraseProfilePage {
    pub layout: Layout,
    pub p: ErasurePreview,
}

#[derive(Deserialize)]
pub struct EraseForm {
    pub csrf_token: String,
    /// The "I understand" box.
    pub confirm: Option<String>,
}

const SUBJECTS: &str = "/admin/data-subjects";

/// What erasing the profile will do, and the form that does it.
pub async fn erase_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ResearcherId>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin(&format!("{SUBJECTS}/researcher/{id}/erase"))?;
    let p = data_rights::profile_erasure::preview(&state, &who, id).await?;
    Ok(render(&EraseProfilePage {
        layout: viewer.layout(format!("Erase {}", p.name)),
        p,
    }))
}

pub async fn erase_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ResearcherId>,
    ReauthForm { form: f, reauth }: ReauthForm<EraseForm>,
) -> Result<Response, PageError> {
    let back = format!("{SUBJECTS}/researcher/{id}/erase");
    let who = viewer.require_admin(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let untick = "Tick the box to confirm that the profile is erased for good.";
    let what = "Erasing a researcher profile";
    let ticked = f.confirm.is_some();
    if let Some(stop) = reauth
        .confirm_ticked(&state, &viewer, &who, ip, ticked, untick, what, &back)
        .await?
    {
        return Ok(stop);
    }
    let r = data_rights::erase_profile(&state, &who, id, ip).await;
    if let Some(prompt) = reauth.prompt_on(&state, &viewer, &r, what, &back) {
        return Ok(prompt);
    }
    match r {
        Ok(done) => Ok(redirect_with_flash(
            &state,
            SUBJECTS,
            "success",
            &erased_message(&done),
        )),
        Err(e) => flash_failure(&state, &back, e),
    }
}

/// The flash after an erasure: what happened, in words.
fn erased_message(done: &ProfileErased) -> String {
    let mut out = String::from("The profile is erased: its personal data is gone");
    if done.papers > 0 {
        out.push_str(&format!(
            ", and {} paper{} now show{} the author as removed at their request",
            done.papers,
            if done.papers == 1 { "" } else { "s" },
            if done.papers == 1 { "s" } else { "" },
        ));
    }
    out.push('.');
    if done.address_suppressed {
        out.push_str(" Its address will never be written to again.");
    }
    match done.identities_listed {
        0 => out.push_str(" It had no ORCID iD or OpenAlex id, so a later collection can only recognise the person by name and might build a new profile."),
        _ => out.push_str(" Collection will never rebuild it."),
    }
    out
}

/// A field message as a sentence: "give an e-mail address …" becomes
/// "Give an e-mail address ….".
fn sentence(m: &str) -> String {
    let mut chars = m.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
