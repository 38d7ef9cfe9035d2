//! Keyset pagination: `?limit=&cursor=`, answers `{items, next_cursor}`.
//! The cursor is opaque to clients (base64 of the last id seen).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::ids::RowKey;
use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 100 (default 20). The document's range comes
    /// from `implied_responses`, for this and every other list's `limit`.
    pub limit: Option<usize>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> AppResult<usize> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(AppError::field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    /// The id (or position) to continue from, if any.
    pub fn after_id<K: RowKey>(&self) -> AppResult<Option<K>> {
        let Some(c) = self.cursor.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let bad = || {
            AppError::bad_request(
                "invalid_cursor",
                "The cursor is not one this server gave out.",
            )
        };
        let raw = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        text.strip_prefix("i:")
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n > 0)
            .map(|n| Some(K::from_raw(n)))
            .ok_or_else(bad)
    }
}

/// The cursor that continues after `last` (an id or a position).
pub fn encode_cursor(last: impl RowKey) -> String {
    URL_SAFE_NO_PAD.encode(format!("i:{}", last.raw()))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// No items and no further page (a filter that matches nothing).
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            next_cursor: None,
        }
    }

    /// Builds a page from `limit + 1` fetched rows.
    pub fn from_rows<K: RowKey>(mut rows: Vec<T>, limit: usize, id_of: impl Fn(&T) -> K) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(id_of(r)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let p = PageParams {
            limit: None,
            cursor: Some(encode_cursor(crate::domain::JobId(42))),
        };
        assert_eq!(p.after_id().unwrap(), Some(crate::domain::JobId(42)));
        assert_eq!(p.after_id().unwrap(), Some(42));
        let bad = PageParams {
            limit: Some(0),
            cursor: Some("' OR 1=1 --".into()),
        };
        assert!(bad.after_id::<i64>().is_err());
        assert!(bad.limit().is_err());
    }
}
