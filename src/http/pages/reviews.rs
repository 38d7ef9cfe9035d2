//! Review pages and forms: "Rate this session" on the session page, the
//! reviews on a researcher's page with their answers and "report", the
//! moderators' queue, and the review e-mail settings.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::PageForm;
use super::form_errors::{FormErrors, Labels};
use super::sessions::ActionForm;
use super::PageError;
use crate::domain::{ConsultingSessionId, ReviewId};
use crate::error::AppError;
use crate::http::extractors::{AppPath, AppQuery};
use crate::pagination::PageParams;
use crate::services::accounts::Principal;
use crate::services::reviews;
use crate::services::reviews::analytics::{self, ReviewAnalytics};
use crate::services::reviews::answers;
use crate::services::reviews::moderation::{self, Action, Decision, Part, QueueItem};
use crate::services::reviews::write::{self, NewReviewBody, ReviewPatch};
use crate::state::AppState;

const LABELS: Labels = &[("rating", "The rating"), ("comment", "The comment")];

/// "Rate this session": writes the review, or edits it within the edit
/// window. A failed form comes back with what was typed.
pub async fn session_review_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ConsultingSessionId>,
    PageForm(mut f): PageForm<ActionForm>,
) -> Result<Response, PageError> {
    let back = format!("/sessions/{id}");
    let who = viewer.require(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    f.action = "review".into();
    let rating = f
        .rating
        .as_deref()
        .unwrap_or_default()
        .trim()
        .parse::<i64>()
        .unwrap_or(0);
    let comment = f.comment.clone().unwrap_or_default();
    let existing = write::of_session(&state, &who, id)
        .await?
        .filter(|r| r.side == "reader");
    let result = match existing {
        Some(r) => {
            let patch = ReviewPatch {
                rating: Some(rating),
                comment: Some(comment),
            };
            write::edit(&state, &who, r.id, patch).await
        }
        None => {
            let body = NewReviewBody {
                session_id: id,
                rating,
                comment: Some(comment),
            };
            write::create(&state, &who, body).await
        }
    };
    match result {
        Ok(r) => {
            let message = if r.status == crate::domain::ReviewStatus::Held {
                "Thank you. Your review is held for moderation: a moderator reads it before others can see it."
            } else {
                "Thank you. Your review is published."
            };
            Ok(redirect_with_flash(
                &state,
                &format!("{back}#review"),
                "success",
                message,
            ))
        }
        Err(e) => {
            let errors = FormErrors::from_error("review", e, LABELS)?;
            let page = super::sessions::session_page(&state, &viewer, id, f, errors).await?;
            Ok(page.errors.respond(&page))
        }
    }
}

#[derive(Deserialize)]
pub struct TextForm {
    pub csrf_token: String,
    pub text: Option<String>,
    pub reason: Option<String>,
}

/// An answer or a report from a review card: done, back to the card with
/// a flash; failed, the researcher page again with the text as typed and
/// the problem next to it.
async fn card_form(
    state: &AppState,
    viewer: &Viewer,
    id: ReviewId,
    f: TextForm,
    form: &'static str,
) -> Result<Response, PageError> {
    let who = viewer.require("/")?;
    viewer.check_csrf(&f.csrf_token)?;
    let researcher = write::get(state, &who, id).await?.researcher_id;
    let text = match form {
        "reply" => f.text.unwrap_or_default(),
        _ => f.reason.unwrap_or_default(),
    };
    let result = match form {
        "reply" => answers::reply(state, &who, id, &text).await.map(|r| {
            if r.reply_status == Some(crate::domain::ReviewStatus::Held) {
                "Your answer is held for moderation: a moderator reads it first."
            } else {
                "Your answer is published."
            }
        }),
        _ => answers::report(state, &who, id, &text)
            .await
            .map(|_| "Thank you. A moderator will look at this review."),
    };
    match result {
        Ok(done) => Ok(redirect_with_flash(
            state,
            &format!("/researchers/{researcher}#review-{id}"),
            "success",
            done,
        )),
        // A refusal (answered already, reported already) is said above the
        // card; a problem with the text comes back next to it, as typed.
        Err(e @ (AppError::Conflict { .. } | AppError::Forbidden | AppError::NotFound)) => {
            let back = format!("/researchers/{researcher}#review-{id}");
            super::outcome::flash_failure(state, &back, e)
        }
        Err(e) => {
            let labels: Labels = &[("text", "The answer"), ("reason", "The reason")];
            let errors = FormErrors::from_error(form, e, labels)?;
            let typed = super::booking::Typed {
                review_id: Some(id),
                review_text: text,
                ..Default::default()
            };
            let q = super::booking::PickerQuery::default();
            super::booking::failed(state, viewer, researcher, &q, typed, errors).await
        }
    }
}

pub async fn reply_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ReviewId>,
    PageForm(f): PageForm<TextForm>,
) -> Result<Response, PageError> {
    card_form(&state, &viewer, id, f, "reply").await
}

pub async fn report_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ReviewId>,
    PageForm(f): PageForm<TextForm>,
) -> Result<Response, PageError> {
    card_form(&state, &viewer, id, f, "report").await
}

#[derive(Template)]
#[template(path = "pages/admin_reviews.html")]
pub struct AdminReviewsPage {
    pub layout: Layout,
    pub status: String,
    pub filters: &'static [&'static str],
    pub items: Vec<QueueItem>,
    pub next_cursor: Option<String>,
    pub figures: ReviewAnalytics,
}

impl AdminReviewsPage {
    pub fn percent(share: &f64) -> String {
        super::review_sections::ProfileReviews::percent(share)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub cursor: Option<String>,
}

pub async fn admin_reviews_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppQuery(q): AppQuery<QueueQuery>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/reviews")?;
    let status = q.status.unwrap_or_else(|| "held".into());
    let filter = moderation::parse_filter(Some(&status))?;
    let page = PageParams {
        limit: Some(20),
        cursor: q.cursor,
    };
    let items = moderation::queue(&state, &who, filter, &page).await?;
    Ok(render(&AdminReviewsPage {
        layout: viewer.layout("Reviews"),
        status,
        filters: moderation::FILTERS,
        items: items.items,
        next_cursor: items.next_cursor,
        figures: analytics::overall(&state, &who).await?,
    }))
}

#[derive(Deserialize)]
pub struct ModerateForm {
    pub csrf_token: String,
    pub action: Action,
    pub reason: Option<String>,
    #[serde(default)]
    pub part: Part,
    /// The queue to come back to.
    pub status: Option<String>,
}

pub async fn admin_moderate_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ReviewId>,
    PageForm(f): PageForm<ModerateForm>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/reviews")?;
    viewer.check_csrf(&f.csrf_token)?;
    let status = f
        .status
        .clone()
        .filter(|s| moderation::FILTERS.contains(&s.as_str()));
    let back = format!(
        "/admin/reviews?status={}",
        status.as_deref().unwrap_or("held")
    );
    let d = Decision {
        action: f.action,
        reason: f.reason.unwrap_or_default(),
        part: f.part,
    };
    let done = match f.action {
        Action::Publish => "Published.",
        Action::Hide => "Hidden.",
        Action::Remove => "Removed.",
    };
    let result = moderation::moderate(&state, &who, id, d)
        .await
        .map(|_| done);
    super::outcome::flash_outcome(&state, &back, result)
}

#[derive(Deserialize)]
pub struct ReviewMailForm {
    pub csrf_token: String,
    pub new_reviews: Option<String>,
    pub reminders: Option<String>,
}

pub async fn review_mail_post(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    PageForm(f): PageForm<ReviewMailForm>,
) -> Result<Response, PageError> {
    let who = viewer.require("/account")?;
    viewer.check_csrf(&f.csrf_token)?;
    let back = super::form::back_to(&headers);
    let result =
        reviews::set_mail_prefs(&state, &who, f.new_reviews.is_some(), f.reminders.is_some())
            .await
            .map(|_| "Saved your review e-mail settings.");
    super::outcome::flash_outcome(&state, &back, result)
}

/// Review e-mail settings for the account page.
pub async fn mail_prefs(state: &AppState, who: &Principal) -> Result<(bool, bool), AppError> {
    reviews::mail_prefs(state, who).await
}
