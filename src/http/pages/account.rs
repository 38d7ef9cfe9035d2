//! My account: profile facts and password change.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::billing::BillingForm;
use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::PageForm;
use super::form_errors::FormErrors;
use super::zones::ZoneField;
use super::PageError;
use crate::domain::billing::BillingDetails;
use crate::http::extractors::ClientIp;
use crate::services::accounts;
use crate::services::payments;
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
    /// A failed form of this page: `"timezone"`, `"billing"` or `"password"`.
    pub errors: FormErrors,
    /// The zone times are shown in, and whether the user chose it.
    pub zone: String,
    pub zone_chosen: bool,
    pub zone_field: ZoneField,
    /// The researcher profile this account claimed, if any.
    pub researcher_id: Option<crate::domain::ResearcherId>,
    pub billing: super::billing::BillingSection,
    /// Review e-mails: (new reviews of me, reminders to review).
    pub review_mail: (bool, bool),
    /// What the account agreed to, and when, with a button each.
    pub consents: super::consents::ConsentSection,
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

pub(super) async fn page(
    state: &AppState,
    viewer: &Viewer,
    errors: FormErrors,
) -> Result<AccountPage, PageError> {
    let who = viewer.require("/account")?;
    let u = accounts::get_user(state, who.user_id).await?;
    let researcher_id = accounts::claimed_profile(state, who.user_id).await?;
    let layout = viewer.layout("My account");
    Ok(AccountPage {
        member_since: layout.local_date(&u.created_at),
        zone: viewer.zone(None).name().to_string(),
        zone_chosen: u.timezone.is_some(),
        zone_field: ZoneField::for_viewer("Your time zone", viewer).with_errors(&errors),
        researcher_id,
        billing: super::billing::section(state, &who).await?,
        review_mail: super::reviews::mail_prefs(state, &who).await?,
        consents: super::consents::section(state, &who, &layout).await?,
        layout,
        name: u.name,
        email: u.email,
        email_verified: u.email_verified,
        role: u.role.label().into(),
        terms_version: u.terms_version.unwrap_or_else(|| "not recorded".into()),
        errors,
    })
}

pub async fn account_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    Ok(render(&page(&state, &viewer, FormErrors::default()).await?))
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
            let labels = &[
                ("current_password", "The current password"),
                ("new_password", "The new password"),
            ];
            let errors = FormErrors::from_error("password", e, labels)?;
            let page = page(&state, &viewer, errors).await?;
            Ok(page.errors.respond(&page))
        }
    }
}

#[derive(Deserialize)]
pub struct EraseForm {
    pub csrf_token: String,
    pub password: String,
    /// The "I understand" box.
    #[serde(default)]
    pub confirm: Option<String>,
}

/// "Delete my account": the same erasure as `DELETE /api/v1/users/me`.
pub async fn erase_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<EraseForm>,
) -> Result<Response, PageError> {
    let who = viewer.require("/account")?;
    viewer.check_csrf(&f.csrf_token)?;
    let result = if f.confirm.as_deref() != Some("yes") {
        Err(crate::error::AppError::field(
            "confirm",
            "Tick the box to confirm that the account is erased for good.",
        ))
    } else {
        crate::services::data_rights::erasure::request_own(&state, &who, &f.password, ip).await
    };
    match result {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            "/",
            "success",
            "Your account is closed, and its data is being erased.",
        )),
        Err(e) => {
            let labels = &[
                ("password", "Your password"),
                ("confirm", "The confirmation"),
            ];
            let errors = FormErrors::from_error("erase", e, labels)?;
            let page = page(&state, &viewer, errors).await?;
            Ok(page.errors.respond(&page))
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
    match accounts::set_timezone(&state, &who, &f.timezone).await {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            "/account",
            "success",
            "Saved. Times on pages and in e-mails now use this zone.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error("timezone", e, &[("timezone", "Time zone")])?;
            let page = page(&state, &viewer, errors).await?;
            Ok(page.errors.respond(&page))
        }
    }
}

/// The account page's billing form (its section is `billing::section`).
/// Saves billing details, or shows the account page again with the
/// typed details and every problem next to its field.
pub async fn billing_post(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(f): PageForm<BillingForm>,
) -> Result<Response, PageError> {
    let back = "/account#billing";
    let who = viewer.require(back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let details = BillingDetails {
        name: f.name.clone(),
        address: f.address.clone(),
        tax_id: f.tax_id.clone(),
    };
    match payments::set_billing(&state, &who, &f.country, Some(&f.region), details).await {
        Ok(()) => Ok(redirect_with_flash(
            &state,
            back,
            "success",
            "Billing details saved.",
        )),
        Err(e) => {
            let labels = &[
                ("country", "Country"),
                ("region", "Region"),
                ("name", "The name on invoices"),
                ("address", "The address"),
                ("tax_id", "The tax id"),
            ];
            let errors = FormErrors::from_error("billing", e, labels)?;
            let mut page = super::account::page(&state, &viewer, errors).await?;
            let b = &mut page.billing;
            b.country = f.country;
            b.region = f.region;
            b.details = BillingDetails {
                name: f.name,
                address: f.address,
                tax_id: f.tax_id,
            };
            Ok(page.errors.respond(&page))
        }
    }
}
