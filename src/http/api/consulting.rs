//! `/api/v1/consulting/*`: researcher collection jobs and profiles, plus
//! `/api/v1/researchers/{id}` and the admin views of jobs and providers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::{JobId, PaperId, ResearcherId};
use crate::error::{AppError, AppResult};
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{
    AdminUser, AppJson, AppPath, AppQuery, AuthUser, ClientIp, MaybeAuthUser,
};
use crate::http::json_bytes::JsonBytes;
use crate::pagination::{Page, PageParams};
use crate::services::collection::{self, CollectRequest, JobView, ProviderView};
use crate::services::researchers::{self, ResearcherView};
use crate::state::AppState;

/// Either `{paper_id}` (every author of the paper) or
/// `{name, affiliation, paper_id?}` (one person; admins only).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectBody {
    pub paper_id: Option<PaperId>,
    pub name: Option<String>,
    pub affiliation: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CollectAnswer {
    pub job_id: JobId,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobListParams {
    /// Only jobs with this status.
    pub status: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResearcherSearchParams {
    /// Part of the name.
    pub q: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

impl CollectBody {
    fn into_request(self) -> AppResult<CollectRequest> {
        match (self.paper_id, self.name, self.affiliation) {
            (Some(paper_id), None, None) => Ok(CollectRequest::Paper { paper_id }),
            (paper_id, Some(name), Some(affiliation)) => Ok(CollectRequest::Person {
                name,
                affiliation,
                paper_id,
            }),
            (_, Some(_), None) => Err(AppError::field("affiliation", "is required with a name")),
            (_, None, Some(_)) => Err(AppError::field("name", "is required with an affiliation")),
            (None, None, None) => Err(AppError::field(
                "paper_id",
                "give either paper_id, or name and affiliation",
            )),
        }
    }
}

/// Collect researcher profiles: all authors of a paper, or one person.
/// Repeating a request while its job runs answers the same job.
#[utoipa::path(post, path = "/api/v1/consulting/researchers/collect", tag = "consulting", request_body = CollectBody,
    security(("bearer" = [])),
    responses((status = 202, body = CollectAnswer), (status = 403, description = "Readers may only collect papers", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "Already collected", body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, description = "Daily budget spent", body = ErrorBody)))]
pub async fn collect(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppJson(body): AppJson<CollectBody>,
) -> AppResult<(StatusCode, Json<CollectAnswer>)> {
    let queued = collection::request(&state, &who, body.into_request()?, ip).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CollectAnswer {
            job_id: queued.job_id,
        }),
    ))
}

/// A collection job with its steps and researchers (its requester and admins).
#[utoipa::path(get, path = "/api/v1/consulting/jobs/{job_id}", tag = "consulting", params(("job_id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
pub async fn job_get(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<JobId>,
) -> AppResult<Json<JobView>> {
    Ok(Json(collection::job(&state, &who, id).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaperResearchersParams {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
    /// `authors` (default: author order) or `rating` (best rated first, by
    /// a Bayesian average, then author order).
    #[param(inline, value_type = Option<crate::domain::api_schema::ResearcherSort>)]
    pub sort: Option<String>,
}

/// A paper's researchers in author order (or by rating with
/// `sort=rating`); `email` and `sources` for admins only.
#[utoipa::path(get, path = "/api/v1/consulting/researchers/{paper_id}", tag = "consulting", params(("paper_id" = i64, Path), PaperResearchersParams),
    security((), ("bearer" = [])),
    responses((status = 200, body = Page<ResearcherView>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn paper_researchers(
    State(state): State<AppState>,
    MaybeAuthUser(who): MaybeAuthUser,
    AppPath(paper_id): AppPath<PaperId>,
    AppQuery(p): AppQuery<PaperResearchersParams>,
) -> AppResult<JsonBytes> {
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    let who = who.as_ref();
    let by_rating = match p.sort.as_deref() {
        None | Some("authors") => false,
        Some("rating") => true,
        Some(_) => return Err(AppError::field("sort", "must be authors or rating")),
    };
    Ok(JsonBytes(
        researchers::paper_list(&state, who, paper_id, by_rating, &page).await?,
    ))
}

/// One researcher; `email` and `sources` for admins only.
#[utoipa::path(get, path = "/api/v1/researchers/{id}", tag = "consulting", params(("id" = i64, Path)),
    security((), ("bearer" = [])),
    responses((status = 200, body = ResearcherView), (status = 404, body = ErrorBody)))]
pub async fn researcher_get(
    State(state): State<AppState>,
    MaybeAuthUser(who): MaybeAuthUser,
    AppPath(id): AppPath<ResearcherId>,
) -> AppResult<JsonBytes> {
    Ok(JsonBytes(
        researchers::get_json(&state, who.as_ref(), id).await?,
    ))
}

/// Collection jobs, newest first (admins).
#[utoipa::path(get, path = "/api/v1/admin/collection/jobs", tag = "admin", params(JobListParams), security(("bearer" = [])),
    responses((status = 200, body = Page<JobView>), (status = 403, body = ErrorBody)))]
pub async fn jobs_list(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    AppQuery(p): AppQuery<JobListParams>,
) -> AppResult<Json<Page<JobView>>> {
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    Ok(Json(
        collection::list_jobs(&state, &admin, p.status, &page).await?,
    ))
}

/// Run a finished job again; its failed steps run again (admins).
#[utoipa::path(post, path = "/api/v1/admin/collection/jobs/{job_id}/retry", tag = "admin", params(("job_id" = i64, Path)),
    security(("bearer" = [])), responses((status = 202, body = JobView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn job_retry(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<JobId>,
) -> AppResult<(StatusCode, Json<JobView>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(collection::retry(&state, &admin, id, ip).await?),
    ))
}

/// Providers: configured or not, availability, last error, credits this month (admins).
#[utoipa::path(get, path = "/api/v1/admin/providers", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<ProviderView>), (status = 403, body = ErrorBody)))]
pub async fn providers_list(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
) -> AppResult<Json<Vec<ProviderView>>> {
    Ok(Json(collection::providers(&state, &admin).await?))
}

/// Make a provider that was marked unavailable usable again (admins).
#[utoipa::path(post, path = "/api/v1/admin/providers/{name}/enable", tag = "admin", params(("name" = String, Path)),
    security(("bearer" = [])), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn provider_enable(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(name): AppPath<String>,
) -> AppResult<StatusCode> {
    collection::enable_provider(&state, &admin, &name, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Search researchers by name, with e-mails (admins).
#[utoipa::path(get, path = "/api/v1/admin/researchers", tag = "admin", params(ResearcherSearchParams), security(("bearer" = [])),
    responses((status = 200, body = Page<ResearcherView>), (status = 403, body = ErrorBody)))]
pub async fn researchers_search(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    AppQuery(p): AppQuery<ResearcherSearchParams>,
) -> AppResult<Json<Page<ResearcherView>>> {
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    Ok(Json(researchers::search(&state, &admin, p.q, &page).await?))
}
