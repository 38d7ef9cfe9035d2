//! My account: profile facts and password change.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, render_status, Layout, Viewer};
use super::form::PageForm;
use super::outcome::flash_outcome;
use super::PageError;
use crate::http::extractors::ClientIp;
use crate::services::accounts;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/account.html")]
pub struct AccountPage {
    pub layout: Layout,
    pub name: String,
    pub email: String,
    /// The address is confirmed (shown next to it).
    pub email_verified: bool,
    pub role: String,
    pub terms_version: String,
    pub member_since: String,
    pub error: Option<String>,
    /// The zone times are shown in, and whether the user chose it.
    pub zone: String,
    pub zone_chosen: bool,
    pub zones: &'static [chrono_tz::Tz],
    /// The researcher profile this account claimed, if any.
    pub researcher_id: Option<crate::domain::ResearcherId>,
    pub billing: super::billing::BillingSection,
}

impl AccountPage {
    pub fn money(&self, minor: &i64, currency: &str) -> String {
        super::billing::BillingSection::money(*minor, currency)
    }
}

#[derive(Deserialize)]
pub struct TimezoneForm {
    pub csrf_token: String,
    pub timezone: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub csrf_token: String,
    pub current_password: String,
    pub new_password: String,
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    error: Option<String>,
) -> Result<AccountPage, PageError> {
    let who = viewer.require("/account")?;
    let u = accounts::get_user(state, who.user_id).await?;
    let researcher_id = accounts::claimed_profile(state, who.user_id).await?;
    Ok(AccountPage {
        zone: viewer.zone(None).name().to_string(),
        zone_chosen: u.timezone.is_some(),
        zones: &chrono_tz::TZ_VARIANTS,
        researcher_id,
        billing: super::billing::section(state, &who).await?,
        layout: viewer.layout("My account"),
        name: u.name,
        email: u.email,
        email_verified: u.email_verified,
        role: u.role.label().into(),
        terms_version: u.terms_version.unwrap_or_else(|| "not recorded".into()),
        member_since: u.created_at.get(..10).unwrap_or_default().to_string(),
        error,
    })
}

pub async fn account_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    Ok(render(&page(&state, &viewer, None).await?))
}

pub async fn password_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<PasswordForm>,
) -> Result<Response, PageError> {
    let who = viewer.require("/account")?;
    viewer.check_csrf(&f.csrf_token)?;
    match accounts::change_password(&state, &who, &f.current_password, &f.new_password, ip).await {
        Ok(()) => Ok(redirect_with_flash(
            &state,
            "/account",
            "success",
            "Your password is changed; your other sessions were logged out.",
        )),
        Err(e) => {
            let p = super::errors::on_form(e)?;
            Ok(render_status(
                p.status,
                &page(&state, &viewer, Some(p.message)).await?,
            ))
        }
    }
}

pub async fn timezone_post(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(f): PageForm<TimezoneForm>,
) -> Result<Response, PageError> {
    let who = viewer.require("/account")?;
    viewer.check_csrf(&f.csrf_token)?;
    let r = accounts::set_timezone(&state, &who, &f.timezone).await;
    flash_outcome(
        &state,
        "/account",
        r.map(|_| "Saved. Times on pages and in e-mails now use this zone."),
    )
}
