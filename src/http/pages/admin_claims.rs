//! Admin pages for who owns a profile: claim requests and merge reviews
//! (`/admin/claims`), and the actions on a researcher's admin page (set
//! the e-mail, invite by e-mail, link an account, merge another profile).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::admin_collection::{researcher_page, AdminTyped};
use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::{safe_next, PageForm};
use super::form_errors::{FormErrors, Labels};
use super::outcome::flash_outcome;
use super::PageError;
use crate::domain::{ClaimRequestId, MergeReviewId, PaperId, ResearcherId};
use crate::error::AppError;
use crate::http::extractors::{AppPath, ClientIp};
use crate::services::claims::{self, ClaimRequestView, MergeDecision, MergeReviewView};
use crate::services::outreach;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_claims.html")]
pub struct ClaimsPage {
    pub layout: Layout,
    pub requests: Vec<ClaimRequestView>,
    pub reviews: Vec<MergeReviewView>,
}

impl ClaimsPage {
    /// Why two profiles look alike, in words ("same ORCID").
    pub fn reason(&self, reason: &str) -> String {
        match reason.strip_prefix("same ") {
            Some("email") => "same e-mail address".into(),
            Some(field) => format!("same {}", crate::domain::labels::field_label(field)),
            None => reason.to_string(),
        }
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    pub csrf_token: String,
    /// `approve` or `refuse` (claims); `keep_first`, `keep_second` or
    /// `dismiss` (merge reviews).
    pub decision: String,
}

#[derive(Deserialize)]
pub struct EmailForm {
    pub csrf_token: String,
    pub email: String,
    pub paper_id: Option<PaperId>,
    pub return_to: Option<String>,
}

#[derive(Deserialize)]
pub struct LinkForm {
    pub csrf_token: String,
    /// An account's e-mail address or number.
    pub account: String,
}

#[derive(Deserialize)]
pub struct MergeForm {
    pub csrf_token: String,
    pub merge_id: String,
}

const ADMIN_LABELS: Labels = &[
    ("email", "The e-mail address"),
    ("account", "The account"),
    ("user_id>account", "The account"),
    ("merge_id", "The profile to merge"),
];

/// Back to `back` with `done`, or the researcher's admin page again with
/// what was typed into form `form` and why it failed.
async fn admin_outcome(
    state: &AppState,
    viewer: &Viewer,
    id: ResearcherId,
    form: &'static str,
    typed: AdminTyped,
    back: &str,
    result: Result<String, AppError>,
) -> Result<Response, PageError> {
    match result {
        Ok(done) => Ok(redirect_with_flash(state, back, "success", &done)),
        Err(e) => {
            let errors = FormErrors::from_error(form, e, ADMIN_LABELS)?;
            let page = researcher_page(state, viewer, id, typed, errors).await?;
            Ok(page.errors.respond(&page))
        }
    }
}

pub async fn claims_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/claims")?;
    let requests = claims::list_requests(&state, &who, None).await?;
    let reviews = claims::merge_reviews(&state, &who).await?;
    Ok(render(&ClaimsPage {
        layout: viewer.layout("Claims and merges"),
        requests,
        reviews,
    }))
}

pub async fn claim_decide_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ClaimRequestId>,
    PageForm(f): PageForm<DecisionForm>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/claims")?;
    viewer.check_csrf(&f.csrf_token)?;
    let approve = match f.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return Err(AppError::bad_request("bad_form", "Choose approve or refuse.").into()),
    };
    let r = claims::decide_request(&state, &who, id, approve, ip)
        .await
        .map(|v| {
            if approve {
                format!(
                    "{} now owns the profile of {}.",
                    v.user_name.unwrap_or_default(),
                    v.researcher_name
                )
            } else {
                format!("The request for {} is refused.", v.researcher_name)
            }
        });
    flash_outcome(&state, "/admin/claims", r)
}

pub async fn merge_review_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<MergeReviewId>,
    PageForm(f): PageForm<DecisionForm>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/claims")?;
    viewer.check_csrf(&f.csrf_token)?;
    let (decision, done) = match f.decision.as_str() {
        "keep_first" => (MergeDecision::KeepFirst, "Merged."),
        "keep_second" => (MergeDecision::KeepSecond, "Merged."),
        "dismiss" => (MergeDecision::Dismiss, "Kept apart."),
        _ => return Err(AppError::bad_request("bad_form", "Choose what to do.").into()),
    };
    let r = claims::decide_merge_review(&state, &who, id, decision, ip).await;
    flash_outcome(&state, "/admin/claims", r.map(|_| done))
}

pub async fn researcher_email_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ResearcherId>,
    PageForm(f): PageForm<EmailForm>,
) -> Result<Response, PageError> {
    let back = format!("/admin/researchers/{id}");
    let who = viewer.require_admin(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let r = claims::admin_set_email(&state, &who, id, &f.email, ip)
        .await
        .map(|_| "The e-mail address is saved.".to_string());
    let typed = AdminTyped {
        email: Some(f.email),
        ..AdminTyped::default()
    };
    admin_outcome(&state, &viewer, id, "email", typed, &back, r).await
}

pub async fn invite_by_email_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ResearcherId>,
    PageForm(f): PageForm<EmailForm>,
) -> Result<Response, PageError> {
    let back = match f.return_to.as_deref() {
        Some(to) => safe_next(Some(to)),
        None => format!("/admin/researchers/{id}"),
    };
    let who = viewer.require_admin(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let o = match outreach::invite_by_email(&state, &who, id, &f.email, f.paper_id, ip).await {
        Ok(o) => o,
        Err(e) => {
            if f.return_to.is_some() {
                // From a paper page: a bad address comes back on that page.
                return match f.paper_id {
                    Some(paper) if e.status_code() == 422 => {
                        super::papers::invite_failed(&state, &viewer, paper, id, f.email, e).await
                    }
                    _ => super::outcome::flash_failure(&state, &back, e),
                };
            }
            let typed = AdminTyped {
                email: Some(f.email),
                ..AdminTyped::default()
            };
            return admin_outcome(&state, &viewer, id, "email", typed, &back, Err(e)).await;
        }
    };
    Ok(super::outcome::mail_outcome(
        &state,
        &back,
        o.mail,
        true,
        "The invitation is on its way.",
        "The invitation is held: an admin must send it from the mailbox.",
    ))
}

pub async fn researcher_link_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ResearcherId>,
    PageForm(f): PageForm<LinkForm>,
) -> Result<Response, PageError> {
    let back = format!("/admin/researchers/{id}");
    let who = viewer.require_admin(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let r = claims::admin_link_account(&state, &who, id, &f.account, ip)
        .await
        .map(|_| "The account is linked to this profile.".to_string());
    let typed = AdminTyped {
        account: f.account,
        ..AdminTyped::default()
    };
    admin_outcome(&state, &viewer, id, "link", typed, &back, r).await
}

pub async fn researcher_merge_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ResearcherId>,
    PageForm(f): PageForm<MergeForm>,
) -> Result<Response, PageError> {
    let back = format!("/admin/researchers/{id}");
    let who = viewer.require_admin(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let r = match f.merge_id.trim().trim_start_matches('#').parse::<i64>() {
        Ok(other) => claims::admin_merge(&state, &who, id, ResearcherId(other), ip)
            .await
            .map(|_| format!("Researcher {other} is merged into this profile.")),
        Err(_) => Err(AppError::field(
            "merge_id",
            "must be the number of the profile to merge into this one, like 42",
        )),
    };
    let typed = AdminTyped {
        merge_id: f.merge_id,
        ..AdminTyped::default()
    };
    admin_outcome(&state, &viewer, id, "merge", typed, &back, r).await
}
