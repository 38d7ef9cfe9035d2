//! After a form's action: back to the page it came from with the outcome
//! as a flash, or the error page (`errors::on_form` decides which).

use axum::response::Response;

use super::context::{redirect_with_flash, redirect_with_flash_link};
use super::errors::{on_form, PageError};
use crate::error::AppError;
use crate::services::mail::Delivery;
use crate::state::AppState;

/// Where admins find held mail.
pub const HELD_MAIL: &str = "/admin/mail?status=held";

/// Back to `back` saying what became of a message: `sent` when it leaves
/// the server, `held` when it waits for an admin; admins also get a link
/// to the held mail.
pub fn mail_outcome(
    state: &AppState,
    back: &str,
    delivery: Delivery,
    admin: bool,
    sent: &str,
    held: &str,
) -> Response {
    match delivery {
        Delivery::Sending => redirect_with_flash(state, back, "success", sent),
        Delivery::Held if admin => redirect_with_flash_link(
            state,
            back,
            "success",
            held,
            (HELD_MAIL, "Open the held mail"),
        ),
        Delivery::Held => redirect_with_flash(state, back, "success", held),
    }
}

/// Back to `back` with the failure as a flash, or the error page.
pub fn flash_failure(state: &AppState, back: &str, e: AppError) -> Result<Response, PageError> {
    let p = on_form(e)?;
    Ok(redirect_with_flash(state, back, "error", &p.message))
}

/// Back to `back` with the outcome as a flash (success, or a failure the
/// form keeps), or the error page.
pub fn flash_outcome(
    state: &AppState,
    back: &str,
    result: Result<impl AsRef<str>, AppError>,
) -> Result<Response, PageError> {
    match result {
        Ok(message) => Ok(redirect_with_flash(
            state,
            back,
            "success",
            message.as_ref(),
        )),
        Err(e) => flash_failure(state, back, e),
    }
}
