//! Finding papers: full-text search over titles and author names, each hit
//! marked when an author can be booked, optionally only those.

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::repos::{papers, researchers, reviews};
use crate::domain::rating::RatingView;
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageParams};
use crate::services::engagement;
use crate::services::papers::PaperView;
use crate::services::researcher_views::Prepared;
use crate::state::AppState;

/// A paper in search results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaperHit {
    #[serde(flatten)]
    pub paper: PaperView,
    /// At least one author has an account and published times, so readers
    /// can book a session with them now.
    pub has_bookable_author: bool,
    /// The published reviews of the paper's authors, together; null until
    /// one of them has a review.
    pub authors_rating: Option<RatingView>,
}

/// A reader's search (the API and the search page): `search`, counted as
/// one search for engagement when words were given. Its further pages are
/// the same search and are not counted again; pickers call `search`.
/// Pages are cached with their JSON (`researcher_views::ViewCache`) and
/// served while no profile, paper, availability or review has changed:
/// the same few words are searched again and again.
pub async fn reader_search(
    state: &AppState,
    q: Option<String>,
    author: Option<String>,
    bookable_only: bool,
    page: &PageParams,
) -> AppResult<Arc<Prepared<Page<PaperHit>>>> {
    let typed = [&q, &author]
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()));
    let first_page = page.cursor.as_deref().is_none_or(|c| c.trim().is_empty());
    let key = serde_json::json!([q, author, bookable_only, page.limit, page.cursor]).to_string();
    let build = async { Prepared::new(search(state, q, author, bookable_only, page).await?) };
    let found = state
        .cache
        .views
        .searches
        .get_or_build(state, key, build)
        .await?;
    if typed && first_page {
        engagement::record_search(state);
    }
    Ok(found)
}

/// Newest first. `bookable_only` keeps papers with a bookable author.
pub async fn search(
    state: &AppState,
    q: Option<String>,
    author: Option<String>,
    bookable_only: bool,
    page: &PageParams,
) -> AppResult<Page<PaperHit>> {
    let limit = page.limit()?;
    let before = page.after_id()?;
    for (field, v) in [("q", &q), ("author", &author)] {
        if v.as_deref().is_some_and(|s| s.chars().count() > 200) {
            return Err(AppError::field(field, "must be at most 200 characters"));
        }
    }
    let (rows, (bookable, rated)) = state
        .db
        .read(move |c| {
            let rows = papers::search(
                c,
                q.as_deref(),
                author.as_deref(),
                bookable_only,
                before,
                limit + 1,
            )?;
            let ids: Vec<_> = rows.iter().map(|p| p.id).collect();
            let bookable = researchers::papers_with_bookable_author(c, &ids)?;
            let rated = reviews::paper_tallies(c, &ids)?;
            Ok((rows, (bookable, rated)))
        })
        .await?;
    let hits = rows
        .into_iter()
        .map(|p| PaperHit {
            has_bookable_author: bookable.contains(&p.id),
            authors_rating: rated
                .iter()
                .find(|(id, _, _)| *id == p.id)
                .and_then(|(_, count, total)| RatingView::new(*count, *total)),
            paper: PaperView::from(p),
        })
        .collect();
    Ok(Page::from_rows(hits, limit, |h: &PaperHit| h.paper.id))
}
