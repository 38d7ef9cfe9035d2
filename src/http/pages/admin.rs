//! The admin overview: accounts with their roles, and the audit trail.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::context::{render, Layout, Viewer};
use super::outcome::flash_outcome;
use super::reauth::ReauthForm;
use super::PageError;
use crate::domain::{labels, Role, UserId};
use crate::error::AppError;
use crate::http::extractors::{AppPath, ClientIp};
use crate::pagination::PageParams;
use crate::services::accounts;
use crate::services::accounts::Account;
use crate::services::admin;
use crate::services::admin::AuditEntry;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin.html")]
pub struct AdminPage {
    pub layout: Layout,
    pub users: Vec<Account>,
    /// Link to the next page of accounts, if there is one.
    pub next_users: Option<String>,
    pub events: Vec<AuditEntry>,
    pub setup: admin::Setup,
}

impl AdminPage {
    /// An audit action in words.
    pub fn action(&self, action: &str) -> String {
        labels::audit_action_label(action)
    }

    /// An audit target as a link: (the object's page, if it has one; what
    /// the link says).
    pub fn target(&self, e: &AuditEntry) -> Option<(Option<String>, String)> {
        let target = e.target.as_deref()?;
        let name = |fallback: String| e.target_name.clone().unwrap_or(fallback);
        Some(match admin::target_parts(target) {
            Some(("user", id)) => (
                Some(format!("/admin/users/{id}")),
                name(format!("account {id}")),
            ),
            Some(("researcher", id)) => (
                Some(format!("/admin/researchers/{id}")),
                name(format!("profile {id}")),
            ),
            Some(("paper", id)) => (Some(format!("/papers/{id}")), name(format!("paper {id}"))),
            Some(("session", id)) => (Some(format!("/sessions/{id}")), format!("session {id}")),
            Some(("mail", id)) => (Some(format!("/admin/mail/{id}")), format!("message {id}")),
            Some(("dispute", id)) => (Some(format!("/disputes/{id}")), format!("dispute {id}")),
            Some(("job", id)) => (Some("/admin/jobs".into()), format!("collection job {id}")),
            Some(("review", id)) => (
                Some(format!("/admin/reviews?status=all#review-{id}")),
                format!("review {id}"),
            ),
            _ => match target.split_once(':') {
                Some(("provider", p)) => (
                    Some("/admin/providers".into()),
                    labels::provider_label(p).to_string(),
                ),
                _ => (None, target.to_string()),
            },
        })
    }
}

#[derive(Deserialize)]
pub struct AdminQuery {
    /// Continue the account list after this cursor.
    pub users_cursor: Option<String>,
}

#[derive(Deserialize)]
pub struct RoleForm {
    pub csrf_token: String,
    pub role: String,
}

pub async fn admin_get(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<AdminQuery>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin")?;
    let users = admin::list_users(
        &state,
        &who,
        &PageParams {
            limit: Some(100),
            cursor: q.users_cursor,
        },
    )
    .await?;
    let next_users = users
        .next_cursor
        .map(|c| format!("/admin?users_cursor={c}"));
    let users = users.items;
    let events = admin::list_audit(
        &state,
        &who,
        None,
        &PageParams {
            limit: Some(50),
            cursor: None,
        },
    )
    .await?
    .items;
    let setup = admin::setup(&state, &who).await?;
    Ok(render(&AdminPage {
        layout: viewer.layout("Administration"),
        users,
        next_users,
        events,
        setup,
    }))
}

pub async fn role_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<UserId>,
    ReauthForm { form: f, reauth }: ReauthForm<RoleForm>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin")?;
    viewer.check_csrf(&f.csrf_token)?;
    let role = Role::parse(&f.role).map_err(|m| AppError::field("role", m))?;
    let what = "Changing a role";
    if let Some(prompt) = reauth
        .confirm(&state, &viewer, &who, ip, what, "/admin")
        .await?
    {
        return Ok(prompt);
    }
    let r = accounts::set_role(&state, &who, id, role, ip).await;
    if let Some(prompt) = reauth.prompt_on(&state, &viewer, &r, what, "/admin") {
        return Ok(prompt);
    }
    flash_outcome(
        &state,
        "/admin",
        r.map(|u| format!("{} is now {}.", u.name, role.label())),
    )
}
