//! Rendering an askama e-mail template, its failure an internal error.

use askama::Template;

use crate::error::{AppError, AppResult};

pub(super) fn render(t: &impl Template) -> AppResult<String> {
    t.render()
        .map_err(|e| AppError::internal(format!("rendering an e-mail: {e}")))
}
