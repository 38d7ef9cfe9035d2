//! `/admin/data-subjects`: find a person to answer a data-rights request
//! (by e-mail address or name, also researchers who never signed up) and
//! download their copy (`services::data_rights`).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::context::{render, Layout, Viewer};
use super::PageError;
use crate::error::AppError;
use crate::http::extractors::{AppPath, AppQuery, ClientIp};
use crate::services::data_rights::{self, DataSubject};
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
