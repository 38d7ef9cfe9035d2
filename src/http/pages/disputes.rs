//! The participants' dispute pages: my disputes (`/disputes`), one dispute
//! with its messages (`/disputes/{id}`: reply, withdraw for the opener,
//! contest a no-show claim; admins also resolve there), and the "Dispute
//! this session" form of the session page. The admins' queue is
//! `admin_disputes`.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::{CsrfOnly, PageForm};
use super::form_errors::{FormErrors, Labels};
use super::outcome::flash_outcome;
use super::sessions::{session_page, ActionForm, ACTION_LABELS};
use super::PageError;
use crate::domain::dispute::DisputeOutcome;
use crate::domain::zone;
use crate::domain::{ConsultingSessionId, DisputeId, DisputeStatus, ReviewId};
use crate::error::AppError;
use crate::http::extractors::AppPath;
use crate::pagination::PageParams;
use crate::services::disputes::open::{self, OpenRequest};
use crate::services::disputes::{self, messages, moves, DisputeView, MessageView};
use crate::services::sessions::Party;
use crate::state::AppState;

/// Words shared by the dispute lists and page.
pub trait DisputeWords {
    fn zone(&self) -> Tz;

    /// The session's other participant(s), as the viewer sees them.
    fn with(&self, d: &DisputeView) -> String {
        match d.your_role {
            Party::Reader => d.researcher_name.clone(),
            Party::Researcher => d.reader_name.clone(),
            Party::Admin => format!("{} and {}", d.reader_name, d.researcher_name),
        }
    }

    /// A time in the viewer's zone.
    fn at(&self, t: &DateTime<Utc>) -> String {
        zone::local(*t, self.zone())
    }

    /// The refund as people read it.
    fn refund(&self, d: &DisputeView) -> Option<String> {
        d.refund_minor
            .filter(|m| *m > 0)
            .map(|m| crate::domain::money::format(m, &d.currency))
    }
}

#[derive(Template)]
#[template(path = "pages/disputes.html")]
pub struct DisputesPage {
    pub layout: Layout,
    pub disputes: Vec<DisputeView>,
    pub zone: Tz,
}

impl DisputeWords for DisputesPage {
    fn zone(&self) -> Tz {
        self.zone
    }
}

#[derive(Template)]
#[template(path = "pages/dispute.html")]
pub struct DisputePage {
    pub layout: Layout,
    pub d: DisputeView,
    pub messages: Vec<MessageView>,
    pub zone: Tz,
    /// What was typed into the page's forms; `errors.form` names the one
    /// that failed (`message`, `contest` or `resolve`).
    pub typed: DisputeForm,
    pub errors: FormErrors,
    /// The admin's resolve form, when they may resolve.
    pub resolve: Option<ResolveForm>,
}

impl DisputeWords for DisputePage {
    fn zone(&self) -> Tz {
        self.zone
    }
}

impl DisputePage {
    /// Whether `author` is the viewer's own side (for the message list).
    pub fn mine(&self, m: &MessageView) -> bool {
        m.author_role.as_str() == self.d.your_role.as_str()
    }
}

/// The forms of the dispute page, as typed.
#[derive(Deserialize, Default)]
pub struct DisputeForm {
    pub csrf_token: String,
    pub text: Option<String>,
    /// The resolve form (`admin_disputes::resolve_post`).
    pub outcome: Option<String>,
    pub amount: Option<String>,
    pub note: Option<String>,
    /// Where the resolve form was: `page` (here) or the admins' `list`.
    pub from: Option<String>,
}

impl DisputeForm {
    /// The text typed into form `form`.
    pub fn text_for(&self, errors: &FormErrors, form: &str) -> String {
        match &self.text {
            Some(t) if errors.form == form => t.clone(),
            _ => String::new(),
        }
    }
}

pub(super) const LABELS: Labels = &[
    ("text", "The message"),
    ("outcome", "The outcome"),
    ("amount_minor>amount", "The amount"),
    ("note", "The note"),
];

pub async fn disputes_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let who = viewer.require("/disputes")?;
    let page = PageParams {
        limit: Some(100),
        cursor: None,
    };
    let list = disputes::list_mine(&state, &who, None, &page).await?;
    Ok(render(&DisputesPage {
        layout: viewer.layout("My disputes"),
        disputes: list.items,
        zone: viewer.zone(None),
    }))
}

pub async fn dispute_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<DisputeId>,
) -> Result<Response, PageError> {
    let page = dispute_page(
        &state,
        &viewer,
        id,
        DisputeForm::default(),
        FormErrors::default(),
    );
    Ok(render(&page.await?))
}

/// The dispute page, with what was typed into the form that failed.
pub(super) async fn dispute_page(
    state: &AppState,
    viewer: &Viewer,
    id: DisputeId,
    typed: DisputeForm,
    errors: FormErrors,
) -> Result<DisputePage, PageError> {
    let who = viewer.require(&format!("/disputes/{id}"))?;
    let mut d = disputes::get(state, &who, id).await?;
    let messages = d.messages.take().unwrap_or_default();
    let mut errors = errors;
    if !errors.form.is_empty() && !d.can(errors.form) {
        // The form that failed is not on the page now: say it above.
        errors.unplace_all();
        errors.form = "";
    }
    let resolve = d
        .can("resolve")
        .then(|| ResolveForm::new(&d, "page", &typed, errors.form == "resolve"));
    Ok(DisputePage {
        layout: viewer.layout(d.kind.title()),
        zone: viewer.zone(None),
        d,
        messages,
        typed,
        errors,
        resolve,
    })
}

/// Back to the dispute with `done`, or its page again with what was typed
/// into `form` and why it failed.
async fn outcome(
    state: &AppState,
    viewer: &Viewer,
    id: DisputeId,
    form: &'static str,
    typed: DisputeForm,
    result: Result<String, AppError>,
) -> Result<Response, PageError> {
    let back = format!("/disputes/{id}");
    match result {
        Ok(done) => Ok(redirect_with_flash(state, &back, "success", &done)),
        Err(e) => {
            let errors = FormErrors::from_error(form, e, LABELS)?;
            let page = dispute_page(state, viewer, id, typed, errors).await?;
            Ok(page.errors.respond(&page))
        }
    }
}

pub async fn message_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<DisputeId>,
    PageForm(f): PageForm<DisputeForm>,
) -> Result<Response, PageError> {
    let who = viewer.require(&format!("/disputes/{id}"))?;
    viewer.check_csrf(&f.csrf_token)?;
    let text = f.text.clone().unwrap_or_default();
    let r = messages::post(&state, &who, id, &text)
        .await
        .map(|_| "Your message is added; the others are told by e-mail.".to_string());
    outcome(&state, &viewer, id, "message", f, r).await
}

pub async fn contest_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<DisputeId>,
    PageForm(f): PageForm<DisputeForm>,
) -> Result<Response, PageError> {
    let who = viewer.require(&format!("/disputes/{id}"))?;
    viewer.check_csrf(&f.csrf_token)?;
    let r = moves::contest(&state, &who, id, f.text.as_deref())
        .await
        .map(|_| "You contested the claim. An admin will decide.".to_string());
    outcome(&state, &viewer, id, "contest", f, r).await
}

pub async fn withdraw_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<DisputeId>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let back = format!("/disputes/{id}");
    let who = viewer.require(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let r = moves::withdraw(&state, &who, id)
        .await
        .map(|_| "The dispute is withdrawn.");
    flash_outcome(&state, &back, r)
}

/// The session page's "Dispute this session" form.
pub async fn dispute_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ConsultingSessionId>,
    PageForm(mut f): PageForm<ActionForm>,
) -> Result<Response, PageError> {
    let who = viewer.require(&format!("/sessions/{id}"))?;
    viewer.check_csrf(&f.csrf_token)?;
    f.action = "dispute".into();
    let review_id = match f
        .review_id
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => Ok(None),
        Some(r) => r
            .parse()
            .map(|n| Some(ReviewId(n)))
            .map_err(|_| AppError::field("review_id", "pick one of the session's reviews")),
    };
    let result = match review_id {
        Ok(review_id) => {
            let req = OpenRequest {
                session_id: id,
                kind: f.kind.clone().unwrap_or_default(),
                review_id,
                description: f.description.clone().unwrap_or_default(),
            };
            open::open(&state, &who, req).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(opened) => Ok(redirect_with_flash(
            &state,
            &format!("/disputes/{}", opened.id),
            "success",
            "Your dispute is opened. The other participant is told by e-mail and may answer here.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error("dispute", e, ACTION_LABELS)?;
            let page = session_page(&state, &viewer, id, f, errors).await?;
            Ok(page.errors.respond(&page))
        }
    }
}

/// One dispute's resolve form, with what was typed when it failed.
pub struct ResolveForm {
    pub id: DisputeId,
    pub currency: String,
    /// (value, words) of the outcomes that fit.
    pub outcomes: Vec<(&'static str, &'static str)>,
    /// `page` or `list`: where to come back to.
    pub from: &'static str,
    pub outcome: String,
    pub amount: String,
    pub note: String,
    /// This form failed (its errors are the page's).
    pub failed: bool,
}

impl ResolveForm {
    pub fn new(d: &DisputeView, from: &'static str, typed: &DisputeForm, failed: bool) -> Self {
        let kept = |v: &Option<String>| {
            if failed {
                v.clone().unwrap_or_default()
            } else {
                String::new()
            }
        };
        Self {
            id: d.id,
            currency: d.currency.clone(),
            outcomes: crate::services::disputes::resolve::outcomes_for(d)
                .into_iter()
                .map(|o| (o.as_str(), outcome_words(o)))
                .collect(),
            from,
            outcome: kept(&typed.outcome),
            amount: kept(&typed.amount),
            note: kept(&typed.note),
            failed,
        }
    }
}

/// An outcome as the form offers it.
fn outcome_words(o: DisputeOutcome) -> &'static str {
    match o {
        DisputeOutcome::RefundFull => "Refund all that is left",
        DisputeOutcome::RefundPartial => "Refund part (amount below)",
        DisputeOutcome::NoRefund => "No refund",
        DisputeOutcome::RemoveReview => "Remove the review",
        DisputeOutcome::ClaimUpheld => "The claim stands (no-show, refund by policy)",
    }
}
