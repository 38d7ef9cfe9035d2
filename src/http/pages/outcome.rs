//! After a form's action: back to the page it came from with the outcome
//! as a flash, or the error page (`errors::on_form` decides which).

use axum::response::Response;

use super::context::redirect_with_flash;
use super::errors::{on_form, PageError};
use crate::error::AppError;
use crate::state::AppState;

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
