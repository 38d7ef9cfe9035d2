//! The admins' dispute queue (`/admin/disputes`): every dispute by status,
//! each open one with a short resolve form and a "take it up" button. The
//! same resolve form is on the dispute's own page.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono_tz::Tz;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::disputes::{dispute_page, DisputeForm, DisputeWords, ResolveForm, LABELS};
use super::form::PageForm;
use super::form_errors::FormErrors;
use super::outcome::flash_outcome;
use super::reauth::ReauthForm;
use super::PageError;
use crate::domain::dispute::DisputeOutcome;
use crate::domain::money::{parse_major, Currency};
use crate::domain::{DisputeId, DisputeStatus};
use crate::error::AppError;
use crate::http::extractors::{AppPath, ClientIp};
use crate::pagination::PageParams;
use crate::services::accounts::Principal;
use crate::services::disputes::resolve::{self, ResolveRequest};
use crate::services::disputes::{self, DisputeView};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_disputes.html")]
pub struct AdminDisputesPage {
    pub layout: Layout,
    pub disputes: Vec<(DisputeView, Option<ResolveForm>)>,
    /// The filter's choices, and the one chosen (as given; `active` by
    /// default).
    pub statuses: &'static [DisputeStatus],
    pub status: String,
    pub next: Option<String>,
    pub zone: Tz,
    pub errors: FormErrors,
}

impl DisputeWords for AdminDisputesPage {
    fn zone(&self) -> Tz {
        self.zone
    }
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub cursor: Option<String>,
}

pub async fn admin_disputes_get(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let page = queue_page(
        &state,
        &viewer,
        q,
        DisputeForm::default(),
        None,
        FormErrors::default(),
    );
    Ok(render(&page.await?))
}

/// The queue; `failed` names the dispute whose resolve form failed.
async fn queue_page(
    state: &AppState,
    viewer: &Viewer,
    q: QueueQuery,
    typed: DisputeForm,
    failed: Option<DisputeId>,
    errors: FormErrors,
) -> Result<AdminDisputesPage, PageError> {
    let who = viewer.require_admin("/admin/disputes")?;
    let status = q
        .status
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "active".into());
    let filter = (status != "all").then_some(status.as_str());
    let page = disputes::list_all(
        state,
        &who,
        filter,
        &PageParams {
            limit: Some(50),
            cursor: q.cursor,
        },
    )
    .await?;
    let next = page
        .next_cursor
        .map(|c| format!("/admin/disputes?status={status}&cursor={c}"));
    let disputes: Vec<_> = page
        .items
        .into_iter()
        .map(|d| {
            let form = d
                .can("resolve")
                .then(|| ResolveForm::new(&d, "list", &typed, failed == Some(d.id)));
            (d, form)
        })
        .collect();
    let mut errors = errors;
    if !disputes
        .iter()
        .any(|(_, f)| f.as_ref().is_some_and(|f| f.failed))
    {
        // The form that failed is not on the page now: say it above.
        errors.unplace_all();
        errors.form = "";
    }
    Ok(AdminDisputesPage {
        layout: viewer.layout("Disputes"),
        disputes,
        statuses: DisputeStatus::ALL,
        status,
        next,
        zone: viewer.zone(None),
        errors,
    })
}

/// The amount typed in major units as minor units of `currency`.
fn amount_minor(typed: Option<&str>, currency: &str) -> Result<Option<i64>, AppError> {
    let Some(t) = typed.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let c = Currency::parse(currency).map_err(AppError::internal)?;
    parse_major(t, c)
        .map(Some)
        .map_err(|m| AppError::field("amount_minor", m))
}

async fn resolve_from(
    state: &AppState,
    who: &Principal,
    id: DisputeId,
    f: &DisputeForm,
    ip: Option<std::net::IpAddr>,
) -> Result<String, AppError> {
    let d = disputes::get(state, who, id).await?;
    let req = ResolveRequest {
        outcome: f.outcome.clone().unwrap_or_default(),
        amount_minor: amount_minor(f.amount.as_deref(), &d.currency)?,
        note: f.note.clone().unwrap_or_default(),
    };
    let v = resolve::resolve(state, who, id, req, ip).await?;
    let outcome = v.outcome.map_or("resolved", DisputeOutcome::label);
    Ok(format!(
        "Dispute {id} is resolved ({outcome}); both participants are told by e-mail."
    ))
}

pub async fn resolve_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<DisputeId>,
    ReauthForm { form: f, reauth }: ReauthForm<DisputeForm>,
) -> Result<Response, PageError> {
    let on_page = f.from.as_deref() == Some("page");
    let back = if on_page {
        format!("/disputes/{id}")
    } else {
        "/admin/disputes".to_string()
    };
    let who = viewer.require_admin(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let what = "Resolving a dispute with a refund";
    if let Some(prompt) = reauth
        .confirm(&state, &viewer, &who, ip, what, &back)
        .await?
    {
        return Ok(prompt);
    }
    let outcome = resolve_from(&state, &who, id, &f, ip).await;
    if let Some(prompt) = reauth.prompt_on(&state, &viewer, &outcome, what, &back) {
        return Ok(prompt);
    }
    match outcome {
        Ok(done) => Ok(redirect_with_flash(&state, &back, "success", &done)),
        Err(e) => {
            let errors = FormErrors::from_error("resolve", e, LABELS)?;
            if on_page {
                let page = dispute_page(&state, &viewer, id, f, errors).await?;
                return Ok(page.errors.respond(&page));
            }
            let q = QueueQuery::default();
            let page = queue_page(&state, &viewer, q, f, Some(id), errors).await?;
            Ok(page.errors.respond(&page))
        }
    }
}

#[derive(Deserialize)]
pub struct ReviewForm {
    pub csrf_token: String,
    pub from: Option<String>,
}

pub async fn review_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<DisputeId>,
    PageForm(f): PageForm<ReviewForm>,
) -> Result<Response, PageError> {
    let back = if f.from.as_deref() == Some("page") {
        format!("/disputes/{id}")
    } else {
        "/admin/disputes".to_string()
    };
    let who = viewer.require_admin(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let r = resolve::review(&state, &who, id, ip)
        .await
        .map(|_| format!("Dispute {id} is now under your review; both participants are told."));
    flash_outcome(&state, &back, r)
}
