//! The admins' outreach page: readers' demand per researcher, the
//! suppression count and the invitation history, and inviting every author
//! of a paper.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::PageForm;
use super::form_errors::FormErrors;
use super::picker::{self, PickOption, Picker};
use super::PageError;
use crate::domain::PaperId;
use crate::http::extractors::ClientIp;
use crate::pagination::PageParams;
use crate::services::outreach::{self, DemandView, InvitationView};
use crate::services::paper_search;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_outreach.html")]
pub struct AdminOutreachPage {
    pub layout: Layout,
    pub demand: Vec<DemandView>,
    pub suppressed: i64,
    pub history: Vec<InvitationView>,
    /// Find a paper by title or author, then invite all its authors.
    pub paper_picker: Picker,
    pub errors: FormErrors,
}

#[derive(Deserialize)]
pub struct OutreachQuery {
    /// The paper picker's search text.
    pub paper_q: Option<String>,
}

#[derive(Deserialize)]
pub struct PaperInviteForm {
    pub csrf_token: String,
    pub paper_id: String,
}

pub async fn admin_outreach_get(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<OutreachQuery>,
) -> Result<Response, PageError> {
    let page = outreach_page(&state, &viewer, q.paper_q, FormErrors::default());
    Ok(render(&page.await?))
}

/// The outreach page; `paper_q` is the picker's search text (or what was
/// typed into the paper form, after a failure).
async fn outreach_page(
    state: &AppState,
    viewer: &Viewer,
    paper_q: Option<String>,
    errors: FormErrors,
) -> Result<AdminOutreachPage, PageError> {
    let who = viewer.require_admin("/admin/outreach")?;
    // The picker has no field to place a message beside: say it above.
    let mut errors = errors;
    errors.unplace_all();
    let (demand, suppressed) = outreach::demand(state, &who).await?;
    let history = outreach::history(state, &who, None).await?;
    let query = picker::query(&paper_q);
    let options = match &query {
        Some(text) => {
            let page = PageParams {
                limit: Some(20),
                cursor: None,
            };
            paper_search::search(state, Some(text.clone()), None, false, &page)
                .await?
                .items
                .into_iter()
                .map(|hit| {
                    let p = hit.paper;
                    let authors: Vec<&str> =
                        p.authors.iter().take(3).map(|a| a.name.as_str()).collect();
                    let year = p.year.map(|y| format!(" ({y})")).unwrap_or_default();
                    PickOption {
                        id: p.id.to_string(),
                        label: p.title.clone(),
                        detail: format!("{}{year}", authors.join(", ")),
                    }
                })
                .collect()
        }
        None => Vec::new(),
    };
    Ok(AdminOutreachPage {
        layout: viewer.layout("Outreach"),
        demand,
        suppressed,
        history,
        paper_picker: Picker {
            id: "paper-picker",
            page: "/admin/outreach".into(),
            query_name: "paper_q",
            query: query.unwrap_or_default(),
            label: "Find the paper (words from its title or an author's name)",
            action: "/admin/outreach/paper".into(),
            field: "paper_id",
            button: "Invite all its authors",
            csrf: viewer.ctx.csrf.clone(),
            options,
            hidden: Vec::new(),
        },
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
        let page = outreach_page(&state, &viewer, Some(f.paper_id), errors).await?;
        return Ok(page.errors.respond(&page));
    };
    let results = outreach::invite_paper(&state, &who, paper, ip).await?;
    let invited: Vec<_> = results
        .iter()
        .filter_map(|(_, o)| o.as_ref().ok())
        .collect();
    if results.is_empty() {
        return Ok(redirect_with_flash(
            &state,
            "/admin/outreach",
            "error",
            "This paper has no collected researchers yet; collect them first.",
        ));
    }
    let counted = format!("{} of {} authors invited.", invited.len(), results.len());
    match invited.first() {
        Some(o) => Ok(super::outcome::mail_outcome(
            &state,
            "/admin/outreach",
            o.mail,
            true,
            &counted,
            &format!(
                "{counted} The invitations are held: an admin must send them from the mailbox."
            ),
        )),
        None => Ok(redirect_with_flash(
            &state,
            "/admin/outreach",
            "error",
            &counted,
        )),
    }
}
