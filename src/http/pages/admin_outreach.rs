//! The admins' outreach page: readers' demand per researcher, the
//! suppression count and the invitation history, and inviting every author
//! of a paper.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::PageForm;
use super::form_errors::FormErrors;
use super::PageError;
use crate::domain::PaperId;
use crate::http::extractors::ClientIp;
use crate::services::outreach::{self, DemandView, InvitationView};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_outreach.html")]
pub struct AdminOutreachPage {
    pub layout: Layout,
    pub demand: Vec<DemandView>,
    pub suppressed: i64,
    pub history: Vec<InvitationView>,
    /// The paper form as typed, after a failure.
    pub paper_id: String,
    pub errors: FormErrors,
}

#[derive(Deserialize)]
pub struct PaperInviteForm {
    pub csrf_token: String,
    pub paper_id: String,
}

pub async fn admin_outreach_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let page = outreach_page(&state, &viewer, String::new(), FormErrors::default());
    Ok(render(&page.await?))
}

async fn outreach_page(
    state: &AppState,
    viewer: &Viewer,
    paper_id: String,
    errors: FormErrors,
) -> Result<AdminOutreachPage, PageError> {
    let who = viewer.require_admin("/admin/outreach")?;
    let (demand, suppressed) = outreach::demand(state, &who).await?;
    let history = outreach::history(state, &who, None).await?;
    Ok(AdminOutreachPage {
        layout: viewer.layout("Outreach"),
        demand,
        suppressed,
        history,
        paper_id,
        errors,
    })
}

pub async fn admin_invite_paper_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<PaperInviteForm>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/outreach")?;
    viewer.check_csrf(&f.csrf_token)?;
    let Ok(paper) = f
        .paper_id
        .trim()
        .trim_start_matches('#')
        .parse()
        .map(PaperId)
    else {
        let mut errors = FormErrors::new("paper");
        errors.add("paper_id", "Give the paper's number, like 12.");
        let page = outreach_page(&state, &viewer, f.paper_id, errors).await?;
        return Ok(page.errors.respond(&page));
    };
    let results = outreach::invite_paper(&state, &who, paper, ip).await?;
    let invited = results.iter().filter(|(_, o)| o.is_ok()).count();
    let message = if results.is_empty() {
        "This paper has no collected researchers yet; collect them first.".to_string()
    } else {
        format!("{invited} of {} authors invited.", results.len())
    };
    Ok(redirect_with_flash(
        &state,
        "/admin/outreach",
        if invited > 0 { "success" } else { "error" },
        &message,
    ))
}
