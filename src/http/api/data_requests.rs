//! `POST /api/v1/data-requests`: "is Colloquy holding data about me?"
//! (`services::data_rights::requests`). Public; the answer goes by e-mail
//! to the address asked about, and the response is the same either way.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AppJson, ClientIp};
use crate::services::data_rights::{requests, DataRequestAccepted};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataRequestBody {
    /// The address to ask about; the answer is mailed there, and only
    /// there.
    #[serde(default)]
    #[schema(required = true, value_type = crate::domain::api_schema::EmailAddress)]
    pub email: String,
}

/// Ask what is held about an e-mail address (anyone; GDPR Art. 15). The
/// answer (an account, researcher profiles collected from public
/// sources, what they hold, where it came from, how to get a copy or
/// erasure; or that nothing is held) is mailed to that address only. The
/// response is 202 with the same message whether or not anything is
/// held. At most 5 requests per client address and one answer per e-mail
/// address per hour.
#[utoipa::path(post, path = "/api/v1/data-requests", tag = "users", request_body = DataRequestBody,
    responses(
        (status = 202, body = DataRequestAccepted, description = "The answer is on its way to the address (or held for an admin when no mail server is set up)"),
        (status = 400, body = ErrorBody, description = "Malformed JSON"),
        (status = 422, body = ErrorBody, description = "`fields.email`: not an e-mail address"),
        (status = 429, body = ErrorBody, description = "`too_many_data_requests` (from this client address) or `data_request_recently_answered` (this e-mail address, within the hour); `Retry-After` says when to ask again")))]
pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(body): AppJson<DataRequestBody>,
) -> AppResult<(StatusCode, Json<DataRequestAccepted>)> {
    let accepted = requests::request(&state, &body.email, ip).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}
