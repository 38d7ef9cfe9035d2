//! `/admin/settings`: the effective institution and mail settings,
//! read-only, with the file key and environment variable for each.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::context::{render, Layout, Viewer};
use super::PageError;
use crate::services::instance_settings::{self, InstanceSettings};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_settings.html")]
pub struct SettingsPage {
    pub layout: Layout,
    pub s: InstanceSettings,
}

pub async fn settings_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/settings")?;
    let s = instance_settings::settings(&state, &who).await?;
    Ok(render(&SettingsPage {
        layout: viewer.layout("Institution settings"),
        s,
    }))
}
