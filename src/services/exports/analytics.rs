//! The `analytics` export: the admins' analytics series over the
//! export's range, flattened (`services::analytics::flat`).

use chrono::{DateTime, Utc};

use super::encode::Cell;
use super::Export;
use crate::error::AppResult;
use crate::state::AppState;

/// The analytics series over the export's range (the default range when
/// none is given), flattened; computed at once, as it is small.
pub(super) async fn rows(state: &AppState, e: &Export) -> AppResult<Vec<Vec<Cell>>> {
    use crate::services::analytics::{self, buckets, cache, flat};
    let tz = state.config.institution.zone();
    let today = analytics::admin::today(state);
    // A plain date (`2026-05-01`) arrives as UTC midnight and names that
    // local day; another time counts from its local day, and an exclusive
    // `to` after local midnight still takes in its day.
    let day = |t: DateTime<Utc>, end: bool| {
        if t.time() == chrono::NaiveTime::MIN {
            return t.date_naive().to_string();
        }
        let d = buckets::local_date(tz, t);
        let later = end && buckets::midnight(tz, d) != t;
        if later { d + chrono::Days::new(1) } else { d }.to_string()
    };
    let from = e.from.map(|t| day(t, false));
    let to = e.to.map(|t| day(t, true));
    let (from, to) = analytics::range(from.as_deref(), to.as_deref(), tz, today)?;
    let a = cache::admin_analytics(state, from, to, e.bucket).await?;
    Ok(flat::rows(&a)
        .into_iter()
        .map(|r| {
            vec![
                Cell::text(r.metric),
                Cell::Time(r.bucket_start),
                r.currency.map_or(Cell::Empty, Cell::text),
                Cell::Int(r.value),
            ]
        })
        .collect())
}
