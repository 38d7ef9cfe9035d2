//! `/api/v1/papers/*` and `/api/v1/queries/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::domain::{PaperId, QueryId};
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AppJson, AppPath, AppQuery, AuthUser, ClientIp};
use crate::http::json_bytes::JsonBytes;
use crate::pagination::{Page, PageParams};
use crate::services::paper_search::{self, PaperHit};
use crate::services::papers::{self, PaperInput, PaperView, ProgressView, QueryView};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorRequest {
    #[schema(value_type = crate::domain::api_schema::TextLine)]
    pub name: String,
    pub affiliation: Option<String>,
    /// Like `0000-0002-1825-0097`; the check digit is verified.
    pub orcid: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaperRequest {
    #[schema(value_type = crate::domain::api_schema::TextLine)]
    pub title: String,
    #[schema(
        pattern = "^\\s*$|^\\s*((https?://(dx\\.)?doi\\.org/)|doi:)?10\\.[^/\\s]+/\\S+\\s*$",
        max_length = 200
    )]
    pub doi: Option<String>,
    #[schema(minimum = 1000, maximum = 2100)]
    pub year: Option<i32>,
    pub venue: Option<String>,
    #[serde(rename = "abstract")]
    pub abstract_text: Option<String>,
    /// In author order; 1 to 100.
    #[schema(min_items = 1)]
    pub authors: Vec<AuthorRequest>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// A DOI, `doi:` form or doi.org URL.
    #[schema(
        pattern = "^\\s*((https?://(dx\\.)?doi\\.org/)|doi:)?10\\.[^/\\s]+/\\S+\\s*$",
        max_length = 200
    )]
    pub doi: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressRequest {
    /// 0 to 100.
    #[schema(minimum = 0, maximum = 100)]
    pub percent: i64,
    /// Whether the reader wants to consult the authors (default false).
    #[serde(default)]
    pub wants_consultation: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// Up to 4000 characters.
    #[schema(value_type = crate::domain::api_schema::TextBlock)]
    pub question: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words from the title or author names (prefix match).
    pub q: Option<String>,
    /// Words from author names only.
    pub author: Option<String>,
    /// `true`: only papers with an author readers can book now (an account
    /// with published times). Default `false`: all papers.
    pub bookable: Option<bool>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// Add a paper (any signed-in user).
#[utoipa::path(post, path = "/api/v1/papers", tag = "papers", request_body = PaperRequest, security(("bearer" = [])),
    responses((status = 201, body = PaperView), (status = 401, body = ErrorBody), (status = 409, description = "DOI exists", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<PaperRequest>,
) -> AppResult<(StatusCode, Json<PaperView>)> {
    let input = PaperInput {
        title: req.title,
        doi: req.doi,
        year: req.year,
        venue: req.venue,
        abstract_text: req.abstract_text,
        authors: req
            .authors
            .into_iter()
            .map(|a| (a.name, a.affiliation, a.orcid))
            .collect(),
    };
    Ok((
        StatusCode::CREATED,
        Json(papers::create(&state, &who, input, ip).await?),
    ))
}

/// Search papers by title and author (full text), newest first; each hit
/// says whether an author can be booked, and `bookable=true` keeps only those.
#[utoipa::path(get, path = "/api/v1/papers", tag = "papers", params(SearchParams),
    responses((status = 200, body = Page<PaperHit>), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    AppQuery(p): AppQuery<SearchParams>,
) -> AppResult<JsonBytes> {
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    let bookable = p.bookable.unwrap_or(false);
    let found = paper_search::reader_search(&state, p.q, p.author, bookable, &page).await?;
    Ok(JsonBytes(found.json.clone()))
}

/// One paper with its authors.
#[utoipa::path(get, path = "/api/v1/papers/{id}", tag = "papers", params(("id" = i64, Path)),
    responses((status = 200, body = PaperView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    AppPath(id): AppPath<PaperId>,
) -> AppResult<Json<PaperView>> {
    Ok(Json((*papers::view(&state, id).await?).clone()))
}

/// Import a paper by DOI from OpenAlex (200 with the existing paper if the DOI is known).
#[utoipa::path(post, path = "/api/v1/papers/import", tag = "papers", request_body = ImportRequest, security(("bearer" = [])),
    responses((status = 201, body = PaperView), (status = 200, description = "Already imported", body = PaperView),
              (status = 422, body = ErrorBody), (status = 502, description = "OpenAlex unreachable", body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<ImportRequest>,
) -> AppResult<(StatusCode, Json<PaperView>)> {
    let (paper, created) = papers::import_doi(&state, &who, &req.doi, ip).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(paper),
    ))
}

/// My reading progress on a paper.
#[utoipa::path(get, path = "/api/v1/papers/{id}/progress", tag = "papers", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ProgressView), (status = 404, body = ErrorBody)))]
pub async fn progress_get(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<PaperId>,
) -> AppResult<Json<ProgressView>> {
    Ok(Json(papers::get_progress(&state, &who, id).await?))
}

/// Set my reading progress and whether I want to consult the authors.
#[utoipa::path(put, path = "/api/v1/papers/{id}/progress", tag = "papers", params(("id" = i64, Path)), request_body = ProgressRequest,
    security(("bearer" = [])), responses((status = 200, body = ProgressView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn progress_put(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<PaperId>,
    AppJson(req): AppJson<ProgressRequest>,
) -> AppResult<Json<ProgressView>> {
    Ok(Json(
        papers::set_progress(&state, &who, id, req.percent, req.wants_consultation).await?,
    ))
}

/// Ask a question about a paper.
#[utoipa::path(post, path = "/api/v1/papers/{id}/queries", tag = "papers", params(("id" = i64, Path)), request_body = QueryRequest,
    security(("bearer" = [])), responses((status = 201, body = QueryView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn queries_post(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<PaperId>,
    AppJson(req): AppJson<QueryRequest>,
) -> AppResult<(StatusCode, Json<QueryView>)> {
    Ok((
        StatusCode::CREATED,
        Json(papers::add_query(&state, &who, id, &req.question).await?),
    ))
}

/// My questions about a paper (admins: everyone's).
#[utoipa::path(get, path = "/api/v1/papers/{id}/queries", tag = "papers", params(("id" = i64, Path), PageParams),
    security(("bearer" = [])), responses((status = 200, body = Page<QueryView>), (status = 404, body = ErrorBody)))]
pub async fn queries_get(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<PaperId>,
    AppQuery(page): AppQuery<PageParams>,
) -> AppResult<Json<Page<QueryView>>> {
    Ok(Json(papers::list_queries(&state, &who, id, &page).await?))
}

/// One of my questions (admins: anyone's); others get 404.
#[utoipa::path(get, path = "/api/v1/queries/{id}", tag = "papers", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = QueryView), (status = 404, body = ErrorBody)))]
pub async fn query_get(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<QueryId>,
) -> AppResult<Json<QueryView>> {
    Ok(Json(papers::get_query(&state, &who, id).await?))
}
