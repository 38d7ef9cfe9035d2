//! The paper page's researcher section: collected profiles, the button to
//! collect them, and live progress (htmx polls while a job runs).

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::context::{render, Viewer};
use super::form::{CsrfOnly, PageForm};
use super::form_errors::FormErrors;
use super::outcome::flash_outcome;
use super::PageError;
use crate::domain::{CollectionStatus, JobStatus, PaperId, ResearcherId};
use crate::http::extractors::{AppPath, ClientIp};
use crate::pagination::PageParams;
use crate::services::collection::{self, CollectRequest, JobView};
use crate::services::papers;
use crate::services::researchers::{self, ResearcherView};
use crate::state::AppState;

/// Progress of the latest job, in words the page shows.
pub struct JobSummary {
    pub status: JobStatus,
    pub authors_done: usize,
    pub authors_total: usize,
    pub failed_steps: usize,
}

#[derive(Template)]
#[template(path = "partials/collection.html")]
pub struct CollectionPartial {
    pub paper_id: PaperId,
    pub researchers: Vec<ResearcherView>,
    pub job: Option<JobSummary>,
    /// Keep polling: a job is queued or running.
    pub polling: bool,
    pub can_collect: bool,
    pub signed_in: bool,
    /// Admins see "Invite by e-mail" for profiles without an address.
    pub is_admin: bool,
    pub csrf: String,
    /// Why a collection request just made was refused.
    pub error: Option<String>,
    /// "Invite by e-mail" that failed: the card and the typed address.
    pub invite: Option<(ResearcherId, String)>,
    pub errors: FormErrors,
}

impl CollectionPartial {
    /// The address typed into researcher `id`'s invite form, after a failure.
    pub fn typed_email(&self, id: &ResearcherId) -> &str {
        match &self.invite {
            Some((r, email)) if r == id => email,
            _ => "",
        }
    }

    /// Whether researcher `id`'s invite form is the one that failed.
    pub fn invite_failed(&self, id: &ResearcherId) -> bool {
        self.invite.as_ref().is_some_and(|(r, _)| r == id)
    }
}

fn summarize(job: &JobView, authors_total: usize) -> JobSummary {
    let mut done = std::collections::BTreeSet::new();
    for s in &job.steps {
        if s.provider == "tavily" {
            done.insert(s.author_index);
        }
    }
    JobSummary {
        status: job.status,
        authors_done: done.len(),
        authors_total,
        failed_steps: job
            .steps
            .iter()
            .filter(|s| s.outcome == "failed" || s.outcome == "unavailable")
            .count(),
    }
}

pub async fn partial(
    state: &AppState,
    viewer: &Viewer,
    paper_id: PaperId,
) -> Result<CollectionPartial, PageError> {
    let paper = papers::get(state, paper_id).await?;
    let who = viewer
        .session
        .as_ref()
        .map(|_| viewer.require("/"))
        .transpose()?;
    let page = PageParams {
        limit: Some(100),
        cursor: None,
    };
    let researchers = researchers::for_paper(state, who.as_ref(), paper_id, &page)
        .await?
        .items;
    let job = collection::latest_for_paper(state, paper_id).await?;
    let polling = job.as_ref().is_some_and(|j| !j.status.is_finished());
    let is_admin = who.as_ref().is_some_and(|w| w.is_admin());
    let open = matches!(
        paper.collection_status,
        CollectionStatus::NotCollected | CollectionStatus::Failed
    );
    Ok(CollectionPartial {
        paper_id,
        researchers,
        job: job.as_ref().map(|j| summarize(j, paper.authors.len())),
        polling,
        can_collect: who.is_some() && !polling && (is_admin || open),
        signed_in: who.is_some(),
        is_admin,
        csrf: viewer.ctx.csrf.clone(),
        error: None,
        invite: None,
        errors: FormErrors::default(),
    })
}

/// The researcher section alone (what htmx polls).
pub async fn collection_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<PaperId>,
) -> Result<Response, PageError> {
    Ok(render(&partial(&state, &viewer, id).await?))
}

/// Starts collecting a paper's researchers.
pub async fn collect_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AppPath(id): AppPath<PaperId>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let who = viewer.require(&format!("/papers/{id}"))?;
    viewer.check_csrf(&f.csrf_token)?;
    let to = format!("/papers/{id}");
    let result =
        collection::request(&state, &who, CollectRequest::Paper { paper_id: id }, ip).await;
    if headers.contains_key("hx-request") {
        let mut section = partial(&state, &viewer, id).await?;
        if let Err(e) = result {
            e.log();
            section.error = Some(e.public_message());
        }
        return Ok(render(&section));
    }
    flash_outcome(
        &state,
        &to,
        result.map(|_| "Collecting the authors' profiles; this page shows the progress."),
    )
}
