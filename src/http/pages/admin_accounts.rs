//! An account's admin page: who it is, what it owns, and disabling,
//! enabling or deleting it (`services::accounts`).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::context::{render, Layout, Viewer};
use super::form::{CsrfOnly, PageForm};
use super::outcome::flash_outcome;
use super::reauth::ReauthForm;
use super::PageError;
use crate::domain::{ResearcherId, UserId};
use crate::http::extractors::{AppPath, ClientIp};
use crate::services::accounts::{self, Account, AccountStatus};
use crate::services::admin;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_account.html")]
pub struct AccountAdminPage {
    pub layout: Layout,
    pub a: Account,
    pub profile: Option<ResearcherId>,
    /// The admin is looking at their own account: no buttons.
    pub own: bool,
}

#[derive(Deserialize)]
pub struct DeleteForm {
    pub csrf_token: String,
    /// The "I understand" box.
    pub confirm: Option<String>,
}

pub async fn account_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<UserId>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin(&format!("/admin/users/{id}"))?;
    let (a, profile) = admin::user(&state, &who, id).await?;
    Ok(render(&AccountAdminPage {
        layout: viewer.layout(format!("Account: {}", a.name)),
        own: a.id == who.user_id,
        a,
        profile,
    }))
}

pub async fn disable_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<UserId>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let back = format!("/admin/users/{id}");
    let who = viewer.require_admin(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let r = accounts::disable(&state, &who, id, ip).await;
    flash_outcome(
        &state,
        &back,
        r.map(|a| {
            format!(
                "{} is disabled: signed out everywhere, and cannot sign in.",
                a.name
            )
        }),
    )
}

pub async fn enable_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<UserId>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let back = format!("/admin/users/{id}");
    let who = viewer.require_admin(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let r = accounts::enable(&state, &who, id, ip).await;
    flash_outcome(
        &state,
        &back,
        r.map(|a| format!("{} can sign in again.", a.name)),
    )
}

pub async fn delete_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<UserId>,
    ReauthForm { form: f, reauth }: ReauthForm<DeleteForm>,
) -> Result<Response, PageError> {
    let back = format!("/admin/users/{id}");
    let who = viewer.require_admin(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let untick = "Tick the box to confirm that the account's personal data is erased for good.";
    let what = "Deleting an account";
    let ticked = f.confirm.is_some();
    if let Some(stop) = reauth
        .confirm_ticked(&state, &viewer, &who, ip, ticked, untick, what, &back)
        .await?
    {
        return Ok(stop);
    }
    let r = crate::services::data_rights::erasure::delete_account(&state, &who, id, ip).await;
    if let Some(prompt) = reauth.prompt_on(&state, &viewer, &r, what, &back) {
        return Ok(prompt);
    }
    flash_outcome(
        &state,
        &back,
        r.map(|()| "The account is deleted and its personal data erased."),
    )
}

impl AccountAdminPage {
    pub fn is_active(&self) -> bool {
        self.a.status == AccountStatus::Active
    }
    pub fn is_disabled(&self) -> bool {
        self.a.status == AccountStatus::Disabled
    }
    pub fn is_deleted(&self) -> bool {
        self.a.status == AccountStatus::Deleted
    }
}
