//! Researcher profiles as readers and admins see them. The e-mail and the
//! provenance of each field are shown to admins only.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::db::repos::researchers::{self, ResearcherRow};
use crate::db::repos::reviews;
use crate::domain::{PaperId, ResearcherId, UserId};
use crate::error::{AppError, AppResult};
use crate::pagination::{encode_cursor, Page, PageParams};
use crate::services::accounts::Principal;
use crate::services::researcher_views::{json_of, Prepared};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceView {
    /// `paper`, `openalex`, `firecrawl`, `rocketreach`, `tavily` or `researcher`.
    pub provider: String,
    pub source_url: Option<String>,
    pub recorded_at: String,
    /// The admin account that set the value by hand (provider `admin`).
    pub set_by: Option<UserId>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResearcherView {
    pub id: ResearcherId,
    pub name: String,
    pub affiliation: Option<String>,
    pub orcid: Option<String>,
    pub openalex_id: Option<String>,
    pub homepage: Option<String>,
    pub bio: Option<String>,
    /// Publication titles from the profile page.
    #[schema(value_type = Vec<String>)]
    pub publications: Value,
    /// `[{text, source_url}]`.
    #[schema(value_type = Vec<Object>)]
    pub achievements: Value,
    pub h_index: Option<i64>,
    pub works_count: Option<i64>,
    pub cited_by_count: Option<i64>,
    #[schema(value_type = Vec<String>)]
    pub topics: Value,
    /// `[{title, year, doi}]`, newest first.
    #[schema(value_type = Vec<Object>)]
    pub recent_works: Value,
    pub collected_at: Option<String>,
    /// The profile belongs to an account (its researcher registered or
    /// claimed it).
    pub claimed: bool,
    /// Readers can book a session now: the owner's account is active and
    /// has published times.
    pub bookable: bool,
    /// The average review, once there are reviews; null until then (never
    /// a made-up value).
    pub rating: Option<RatingView>,
    /// Admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Admins only: the grade or validity of the e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_quality: Option<String>,
    /// Admins only: where each field came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<BTreeMap<String, SourceView>>,
}

pub use crate::domain::rating::RatingView;

fn view(
    r: ResearcherRow,
    admin: bool,
    sources: Option<BTreeMap<String, SourceView>>,
) -> ResearcherView {
    ResearcherView {
        id: r.id,
        name: r.name,
        affiliation: r.affiliation,
        orcid: r.orcid,
        openalex_id: r.openalex_id,
        homepage: r.homepage,
        bio: r.bio,
        publications: r.publications,
        achievements: r.achievements,
        h_index: r.h_index,
        works_count: r.works_count,
        cited_by_count: r.cited_by_count,
        topics: r.topics,
        recent_works: r.recent_works,
        collected_at: r.collected_at,
        claimed: r.user_id.is_some(),
        bookable: false,
        rating: None,
        email: if admin { r.email } else { None },
        email_quality: if admin { r.email_quality } else { None },
        sources: if admin { sources } else { None },
    }
}

fn source_map(rows: Vec<researchers::FieldSource>) -> BTreeMap<String, SourceView> {
    rows.into_iter()
        .map(|s| {
            (
                s.field,
                SourceView {
                    provider: s.provider,
                    source_url: s.source_url,
                    recorded_at: s.recorded_at,
                    set_by: s.set_by,
                },
            )
        })
        .collect()
}

/// Sets `bookable` and `rating` on each view, on a connection already
/// held (the view and its marks come from one read).
fn mark_bookable_in(c: &rusqlite::Connection, views: &mut [ResearcherView]) -> AppResult<()> {
    let claimed: Vec<ResearcherId> = views.iter().filter(|v| v.claimed).map(|v| v.id).collect();
    let all: Vec<ResearcherId> = views.iter().map(|v| v.id).collect();
    let bookable = researchers::bookable_among(c, &claimed)?;
    let tallies = reviews::tallies(c, &all)?;
    for v in views {
        v.bookable = bookable.contains(&v.id);
        v.rating = tallies
            .iter()
            .find(|(id, _)| *id == v.id)
            .and_then(|(_, t)| RatingView::new(t.count, t.total));
    }
    Ok(())
}

/// The profile of each of a paper's authors, by author position (0-based),
/// for linking the author list to profiles.
pub async fn author_profiles(
    state: &AppState,
    paper: PaperId,
) -> AppResult<BTreeMap<i64, ResearcherId>> {
    let rows = state
        .db
        .read(move |c| researchers::author_profiles(c, paper))
        .await?;
    Ok(rows.into_iter().collect())
}

/// One researcher; anyone may read the public fields.
pub async fn get(
    state: &AppState,
    who: Option<&Principal>,
    id: ResearcherId,
) -> AppResult<ResearcherView> {
    if who.is_some_and(Principal::is_admin) {
        return build_one(state, true, id).await;
    }
    Ok(public_one(state, id).await?.value.clone())
}

/// `get` as the API sends it: JSON bytes, which for anyone but an admin
/// come from the cache as they were serialized when the view was built.
pub async fn get_json(
    state: &AppState,
    who: Option<&Principal>,
    id: ResearcherId,
) -> AppResult<Bytes> {
    if who.is_some_and(Principal::is_admin) {
        return json_of(&build_one(state, true, id).await?);
    }
    Ok(public_one(state, id).await?.json.clone())
}

async fn public_one(
    state: &AppState,
    id: ResearcherId,
) -> AppResult<Arc<Prepared<ResearcherView>>> {
    let build = async { Prepared::new(build_one(state, false, id).await?) };
    state.cache.views.one.get_or_build(state, id, build).await
}

/// One view, built in one read: the row, the sources for an admin, and
/// the bookable and rating marks.
async fn build_one(state: &AppState, admin: bool, id: ResearcherId) -> AppResult<ResearcherView> {
    let keys = state.keys.clone();
    state
        .db
        .read_short(move |c| {
            let row = researchers::find_with(c, &keys, id, admin)?.ok_or(AppError::NotFound)?;
            let sources = admin.then(|| researchers::sources(c, id)).transpose()?;
            let mut one = [view(row, admin, sources.map(source_map))];
            mark_bookable_in(c, &mut one)?;
            let [v] = one;
            Ok(v)
        })
        .await
}

/// A paper's researchers in author order or by rating, as JSON bytes:
/// for anyone but an admin from the cache, as they were serialized when
/// the list was built.
pub async fn paper_list(
    state: &AppState,
    who: Option<&Principal>,
    paper: PaperId,
    by_rating: bool,
    page: &PageParams,
) -> AppResult<Bytes> {
    let admin = who.is_some_and(Principal::is_admin);
    let build = |state| async move {
        if by_rating {
            for_paper_by_rating(state, who, paper, page).await
        } else {
            for_paper(state, who, paper, page).await
        }
    };
    if admin {
        return json_of(&build(state).await?);
    }
    let key = format!("{paper}:{by_rating}:{:?}:{:?}", page.limit, page.cursor);
    let cache = &state.cache.views.lists;
    let build = async { json_of(&build(state).await?) };
    Ok(Bytes::clone(&*cache.get_or_build(state, key, build).await?))
}

/// A paper's researchers in author order.
pub async fn for_paper(
    state: &AppState,
    who: Option<&Principal>,
    paper: PaperId,
    page: &PageParams,
) -> AppResult<Page<ResearcherView>> {
    let admin = who.is_some_and(Principal::is_admin);
    let limit = page.limit()?;
    // The cursor holds the last author position + 1 (cursors are positive).
    let after = page.after_id::<i64>()?.map(|p| p - 1);
    let keys = state.keys.clone();
    state
        .db
        .read_short(move |c| {
            let rows = paper_authors_in(c, &keys, paper, after, limit + 1, admin)?;
            let more = rows.len() > limit;
            let rows: Vec<_> = rows.into_iter().take(limit).collect();
            let next_cursor = match rows.last() {
                Some((position, _)) if more => Some(encode_cursor(position + 1)),
                _ => None,
            };
            let items = author_views_in(c, admin, rows)?;
            Ok(Page { items, next_cursor })
        })
        .await
}

/// A paper's author rows (404 for no such paper), on a connection held.
fn paper_authors_in(
    c: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    paper: PaperId,
    after: Option<i64>,
    limit: usize,
    admin: bool,
) -> AppResult<Vec<(i64, ResearcherRow)>> {
    let rows = researchers::for_paper(c, keys, paper, after, limit, admin)?;
    // Only an empty page asks whether the paper exists at all.
    if rows.is_empty() && !crate::db::repos::papers::exists(c, paper)? {
        return Err(AppError::NotFound);
    }
    Ok(rows)
}

/// The views of a paper's author rows, each researcher once (one may sit
/// at several positions), with sources for admins, bookable and rated.
fn author_views_in(
    c: &rusqlite::Connection,
    admin: bool,
    rows: Vec<(i64, ResearcherRow)>,
) -> AppResult<Vec<ResearcherView>> {
    let mut items: Vec<ResearcherView> = Vec::new();
    for (_, row) in rows {
        if items.iter().any(|v| v.id == row.id) {
            continue;
        }
        let sources = admin.then(|| researchers::sources(c, row.id)).transpose()?;
        items.push(view(row, admin, sources.map(source_map)));
    }
    mark_bookable_in(c, &mut items)?;
    Ok(items)
}

/// The most authors one paper's list orders by rating at once.
const MAX_AUTHORS: usize = 1000;

/// A paper's researchers, best rated first: the Bayesian average of their
/// published reviews (`[reviews] rating_prior_mean` and
/// `rating_prior_weight`; `domain::rating::bayesian`), then author order.
/// The cursor is the position in that order.
pub async fn for_paper_by_rating(
    state: &AppState,
    who: Option<&Principal>,
    paper: PaperId,
    page: &PageParams,
) -> AppResult<Page<ResearcherView>> {
    let limit = page.limit()?;
    let skip = page.after_id::<i64>()?.unwrap_or(0).max(0) as usize;
    let admin = who.is_some_and(Principal::is_admin);
    let keys = state.keys.clone();
    let mut items = state
        .db
        .read(move |c| {
            let rows = paper_authors_in(c, &keys, paper, None, MAX_AUTHORS, admin)?;
            author_views_in(c, admin, rows)
        })
        .await?;
    let c = &state.config.reviews;
    let key = |v: &ResearcherView| {
        crate::domain::rating::sort_key(
            v.rating.as_ref(),
            c.rating_prior_mean,
            c.rating_prior_weight,
        )
    };
    // A stable sort keeps author order among equals.
    items.sort_by(|a, b| key(b).total_cmp(&key(a)));
    let more = items.len() > skip + limit;
    let items: Vec<ResearcherView> = items.into_iter().skip(skip).take(limit).collect();
    let next_cursor = more.then(|| encode_cursor((skip + limit) as i64));
    Ok(Page { items, next_cursor })
}

/// Admin search by name.
pub async fn search(
    state: &AppState,
    who: &Principal,
    name: Option<String>,
    page: &PageParams,
) -> AppResult<Page<ResearcherView>> {
    who.require_admin()?;
    let limit = page.limit()?;
    let before = page.after_id()?;
    let keys = state.keys.clone();
    let name = name.filter(|n| !n.trim().is_empty());
    let views = state
        .db
        .read(move |c| {
            let rows = researchers::search(c, &keys, name.as_deref(), before, limit + 1)?;
            let mut views: Vec<ResearcherView> =
                rows.into_iter().map(|r| view(r, true, None)).collect();
            mark_bookable_in(c, &mut views)?;
            Ok(views)
        })
        .await?;
    Ok(Page::from_rows(views, limit, |v: &ResearcherView| v.id))
}

/// The full view (e-mail and sources included), for admins and for the
/// researcher's own registration page (`bookable` is false: the page is
/// for a profile nobody owns yet).
pub fn admin_view(row: ResearcherRow, sources: Vec<researchers::FieldSource>) -> ResearcherView {
    view(row, true, Some(source_map(sources)))
}
