//! `GET /api/v1/exports/{dataset}`: a dataset as CSV or NDJSON, scoped to
//! the caller, streamed and audited.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::downloads::export_response;
use crate::http::extractors::{AppPath, AppQuery, AuthUser, ClientIp};
use crate::services::exports;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv` (default: a header row, RFC 4180 quoting) or `json` (NDJSON:
    /// one object a line).
    #[param(inline, value_type = Option<crate::domain::api_schema::ExportFormat>)]
    pub format: Option<String>,
    /// Rows dated at or after this (a date `2026-01-01` or an RFC 3339
    /// time): sessions by their time, the others by when they were made.
    pub from: Option<String>,
    /// Rows dated before this.
    pub to: Option<String>,
    /// `analytics` only: `day`, `week` (default) or `month`.
    #[param(inline, value_type = Option<crate::domain::api_schema::BucketName>)]
    pub bucket: Option<String>,
}

/// Download a dataset: `sessions`, `payments` (the ledger), `invoices` and
/// `reviews` hold the caller's own rows (admins: everyone's);
/// `researchers` and `users` are for admins. Times are ISO 8601; text
/// cells a spreadsheet would read as formulas start with `'`. Each export
/// is audited (who, which dataset, which range).
#[utoipa::path(get, path = "/api/v1/exports/{dataset}", tag = "users",
    params(("dataset" = inline(crate::domain::api_schema::ExportDataset), Path), ExportParams),
    security(("bearer" = [])),
    responses((status = 200, description = "The rows, streamed, as an attachment with a dated file name",
                content((String = "text/csv"), (String = "application/x-ndjson"))),
              (status = 401, body = ErrorBody),
              (status = 403, description = "An admins' dataset", body = ErrorBody),
              (status = 422, description = "Unknown dataset or format, or a bad range", body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppPath(dataset): AppPath<String>,
    AppQuery(p): AppQuery<ExportParams>,
) -> AppResult<Response> {
    let query = exports::Query {
        format: p.format.as_deref(),
        from: p.from.as_deref(),
        to: p.to.as_deref(),
        bucket: p.bucket.as_deref(),
    };
    let started = exports::start(&state, &who, &dataset, query, "api", ip).await?;
    Ok(export_response(started))
}
