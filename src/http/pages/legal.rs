//! The terms of use and the privacy notice: the current text, each earlier
//! version as it was published (`/terms/{version}`, `/privacy/{version}`;
//! an unknown version is 404), and the acceptance page an account is sent
//! to while it has not accepted the current versions (`/terms/accept`).

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::context::{render, Layout, Viewer};
use super::form::{safe_next, PageForm};
use super::PageError;
use crate::domain::{ConsentSource, LegalDocument};
use crate::error::AppError;
use crate::http::extractors::{AppPath, AppQuery, ClientIp};
use crate::services::{consents, terms};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/terms.html")]
pub struct TermsPage {
    pub layout: Layout,
    pub heading: String,
    /// `/terms` or `/privacy`.
    pub base: String,
    pub version: String,
    pub since: String,
    pub paragraphs: Vec<String>,
    /// This version is the one in force.
    pub current: bool,
    pub current_version: String,
    /// Every published version but this one, newest first: (version, since).
    pub others: Vec<(String, String)>,
}

fn heading(document: LegalDocument) -> (&'static str, &'static str) {
    match document {
        LegalDocument::Terms => ("Terms of use", "/terms"),
        LegalDocument::PrivacyNotice => ("Privacy notice", "/privacy"),
    }
}

async fn document_page(
    state: &AppState,
    viewer: &Viewer,
    document: LegalDocument,
    version: Option<String>,
) -> Result<Response, PageError> {
    let current_version = terms::version_of(&state.config.institution, document).to_string();
    let t = match version {
        None => terms::current_published(state, document).await?,
        Some(v) => terms::published(state, document, &v)
            .await?
            .ok_or(AppError::NotFound)?,
    };
    let (title, base) = heading(document);
    let layout = viewer.layout(title);
    let others = terms::history(state, document)
        .await?
        .into_iter()
        .filter(|(v, _)| *v != t.version)
        .map(|(v, at)| (v, crate::domain::zone::date(at, layout.zone)))
        .collect();
    Ok(render(&TermsPage {
        since: t
            .since
            .map(|at| crate::domain::zone::date(at, layout.zone))
            .unwrap_or_default(),
        heading: title.into(),
        base: base.into(),
        current: t.version == current_version,
        version: t.version,
        paragraphs: t.paragraphs,
        current_version,
        others,
        layout,
    }))
}

pub async fn terms_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    document_page(&state, &viewer, LegalDocument::Terms, None).await
}

pub async fn terms_version_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(version): AppPath<String>,
) -> Result<Response, PageError> {
    document_page(&state, &viewer, LegalDocument::Terms, Some(version)).await
}

pub async fn privacy_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    document_page(&state, &viewer, LegalDocument::PrivacyNotice, None).await
}

pub async fn privacy_version_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(version): AppPath<String>,
) -> Result<Response, PageError> {
    document_page(&state, &viewer, LegalDocument::PrivacyNotice, Some(version)).await
}

/// One document to accept on the acceptance page.
pub struct Pending {
    pub document: LegalDocument,
    pub heading: String,
    pub base: String,
    pub version: String,
    pub paragraphs: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/terms_accept.html")]
pub struct AcceptPage {
    pub layout: Layout,
    pub pending: Vec<Pending>,
    pub next: String,
    pub error: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

#[derive(Deserialize)]
pub struct AcceptForm {
    pub csrf_token: String,
    pub next: Option<String>,
    pub accept: Option<String>,
    /// The versions shown, so a version that changed meanwhile is not
    /// accepted unread.
    #[serde(default)]
    pub terms_version: Option<String>,
    #[serde(default)]
    pub privacy_version: Option<String>,
}

/// The documents the signed-in account has not accepted, as the page
/// shows them.
async fn pending_documents(state: &AppState, viewer: &Viewer) -> Result<Vec<Pending>, PageError> {
    let who = viewer.require("/terms/accept")?;
    let u = crate::services::accounts::get_user(state, who.user_id).await?;
    let mut out = Vec::new();
    for (doc, _) in terms::pending(
        &state.config.institution,
        u.terms_version.as_deref(),
        u.privacy_version.as_deref(),
    ) {
        let document: LegalDocument = doc.parse().map_err(AppError::internal)?;
        let t = terms::current_published(state, document).await?;
        let (title, base) = heading(document);
        out.push(Pending {
            document,
            heading: title.into(),
            base: base.into(),
            version: t.version,
            paragraphs: t.paragraphs,
        });
    }
    Ok(out)
}

pub async fn accept_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppQuery(q): AppQuery<NextQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(q.next.as_deref());
    let pending = pending_documents(&state, &viewer).await?;
    if pending.is_empty() {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(render(&AcceptPage {
        layout: viewer.layout("Please read and accept"),
        pending,
        next,
        error: false,
    }))
}

pub async fn accept_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<AcceptForm>,
) -> Result<Response, PageError> {
    let who = viewer.require("/terms/accept")?;
    viewer.check_csrf(&f.csrf_token)?;
    let next = safe_next(f.next.as_deref());
    let pending = pending_documents(&state, &viewer).await?;
    let shown = |p: &Pending, v: &Option<String>| v.as_deref() == Some(p.version.as_str());
    let all_shown = pending.iter().all(|p| match p.document {
        LegalDocument::Terms => shown(p, &f.terms_version),
        LegalDocument::PrivacyNotice => shown(p, &f.privacy_version),
    });
    if f.accept.is_none() || !all_shown {
        let page = AcceptPage {
            layout: viewer.layout("Please read and accept"),
            pending,
            next,
            error: true,
        };
        return Ok(super::context::render_status(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            &page,
        ));
    }
    for p in &pending {
        consents::accept(
            &state,
            &who,
            p.document,
            &p.version,
            ConsentSource::Interstitial,
            ip,
        )
        .await?;
    }
    Ok(Redirect::to(&next).into_response())
}
