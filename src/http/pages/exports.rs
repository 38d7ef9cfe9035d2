//! `/exports/{dataset}`: the same downloads as the API's, for a signed-in
//! browser (the "Export" buttons next to tables), and `/account/export`
//! ("Download my data").

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::context::Viewer;
use super::PageError;
use crate::http::downloads::export_response;
use crate::http::extractors::{AppPath, AppQuery, ClientIp};
use crate::services::exports;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    pub format: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub bucket: Option<String>,
}

pub async fn export_get(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(dataset): AppPath<String>,
    AppQuery(q): AppQuery<ExportQuery>,
) -> Result<Response, PageError> {
    let who = viewer.require(&format!("/exports/{dataset}"))?;
    let query = exports::Query {
        format: q.format.as_deref(),
        from: q.from.as_deref(),
        to: q.to.as_deref(),
        bucket: q.bucket.as_deref(),
    };
    let started = exports::start(&state, &who, &dataset, query, "web", ip).await?;
    Ok(export_response(started))
}

/// `/account/export`: "Download my data", the same file as
/// `GET /api/v1/users/me/export`.
pub async fn my_data_get(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
) -> Result<Response, PageError> {
    let who = viewer.require("/account")?;
    let doc = crate::services::data_rights::export_account(&state, &who, ip).await?;
    Ok(crate::http::api::data_rights::attachment(&doc)?)
}
