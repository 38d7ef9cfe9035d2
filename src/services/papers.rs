//! Papers: create, import by DOI from OpenAlex, search, detail (cached),
//! reading progress, and readers' queries.

use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::db::repos::papers::{self, PaperRow};
use crate::db::repos::queries::{self, QueryRow};
use crate::db::repos::{audit, progress};
use crate::domain::paper::{parse_doi, NewAuthor, NewPaper, RawAuthor, RawPaper};
use crate::domain::{text, CollectionStatus, ConsultingSessionId, PaperId, QueryId};
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageParams};
use crate::providers::ProviderError;
use crate::services::accounts::Principal;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthorView {
    /// 0-based position in the author list.
    pub position: i64,
    pub name: String,
    pub affiliation: Option<String>,
    pub orcid: Option<String>,
    /// The author's profile was erased at their request: `name` reads
    /// "Removed at their request" and there is no affiliation or ORCID.
    pub removed: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaperView {
    pub id: PaperId,
    pub title: String,
    pub doi: Option<String>,
    pub year: Option<i32>,
    pub venue: Option<String>,
    #[serde(rename = "abstract")]
    pub abstract_text: Option<String>,
    pub url: Option<String>,
    /// `manual`, `openalex` or `demo`.
    pub source: String,
    pub authors: Vec<AuthorView>,
    /// How far collecting the authors' researcher profiles got.
    pub collection_status: CollectionStatus,
    pub collected_at: Option<String>,
    pub created_at: String,
}

impl From<PaperRow> for PaperView {
    fn from(p: PaperRow) -> Self {
        Self {
            id: p.id,
            title: p.title,
            doi: p.doi,
            year: p.year,
            venue: p.venue,
            abstract_text: p.abstract_text,
            url: p.url,
            source: p.source,
            authors: p
                .authors
                .into_iter()
                .map(|a| AuthorView {
                    position: a.position,
                    name: a.name,
                    affiliation: a.affiliation,
                    orcid: a.orcid,
                    removed: a.removed,
                })
                .collect(),
            collection_status: p.collection_status,
            collected_at: p.collected_at,
            created_at: p.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressView {
    pub paper_id: PaperId,
    /// 0 to 100.
    pub percent: u8,
    /// The reader wants to consult the paper's authors.
    pub wants_consultation: bool,
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueryView {
    pub id: QueryId,
    pub paper_id: PaperId,
    pub question: String,
    /// The consulting session where it was answered, once there is one.
    pub session_id: Option<ConsultingSessionId>,
    pub created_at: String,
}

impl From<QueryRow> for QueryView {
    fn from(q: QueryRow) -> Self {
        Self {
            id: q.id,
            paper_id: q.paper_id,
            question: q.question,
            session_id: q.session_id,
            created_at: q.created_at,
        }
    }
}

/// Paper input as received (API JSON or web form).
pub struct PaperInput {
    pub title: String,
    pub doi: Option<String>,
    pub year: Option<i32>,
    pub venue: Option<String>,
    pub abstract_text: Option<String>,
    pub authors: Vec<(String, Option<String>, Option<String>)>,
}

impl PaperInput {
    fn parse(&self) -> AppResult<NewPaper> {
        NewPaper::parse(RawPaper {
            title: &self.title,
            doi: self.doi.as_deref(),
            year: self.year,
            venue: self.venue.as_deref(),
            abstract_text: self.abstract_text.as_deref(),
            url: None,
            authors: self
                .authors
                .iter()
                .map(|(n, a, o)| RawAuthor {
                    name: n,
                    affiliation: a.as_deref(),
                    orcid: o.as_deref(),
                })
                .collect(),
        })
    }
}

async fn insert(
    state: &AppState,
    paper: NewPaper,
    source: &'static str,
    who: Option<&Principal>,
    ip: Option<IpAddr>,
) -> AppResult<PaperView> {
    let keys = state.keys.clone();
    let now = state.now();
    let actor = who.map(|w| w.user_id);
    let id = state
        .db
        .write(move |tx| {
            let id = papers::insert(tx, &paper, source, actor, now)?;
            let ev = audit::NewEvent {
                actor,
                action: "paper.created",
                target: Some(format!("paper:{id}")),
                detail: json!({"source": source}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(id)
        })
        .await?;
    get(state, id).await.map(|p| (*p).clone())
}

/// Checks a paper as `create` would, without saving it: every problem
/// at once (a form shows them beside its own).
pub fn check(input: &PaperInput) -> AppResult<()> {
    input.parse().map(|_| ())
}

pub async fn create(
    state: &AppState,
    who: &Principal,
    input: PaperInput,
    ip: Option<IpAddr>,
) -> AppResult<PaperView> {
    crate::services::accounts::require_verified(state, who).await?;
    let paper = input.parse()?;
    insert(state, paper, "manual", Some(who), ip).await
}

/// Inserts a demo paper unless it is already there (by DOI, or by title
/// when it has none); true if inserted.
pub async fn create_demo(state: &AppState, input: PaperInput) -> AppResult<bool> {
    let paper = input.parse()?;
    let (doi, title) = (paper.doi.clone(), paper.title.clone());
    let existing = state
        .db
        .read(move |c| match doi {
            Some(d) => papers::find_by_doi(c, &d),
            None => papers::find_by_title(c, &title),
        })
        .await?;
    if existing.is_some() {
        return Ok(false);
    }
    insert(state, paper, "demo", None, None).await?;
    Ok(true)
}

/// Imports a paper by DOI from OpenAlex; an existing paper with that DOI is
/// returned as it is (`false`: not newly created).
pub async fn import_doi(
    state: &AppState,
    who: &Principal,
    raw_doi: &str,
    ip: Option<IpAddr>,
) -> AppResult<(PaperView, bool)> {
    crate::services::accounts::require_verified(state, who).await?;
    let doi = parse_doi(raw_doi)
        .map_err(|m| AppError::field("doi", m))?
        .ok_or_else(|| AppError::field("doi", "is required"))?;
    let d = doi.clone();
    if let Some(id) = state.db.read(move |c| papers::find_by_doi(c, &d)).await? {
        return Ok(((*get(state, id).await?).clone(), false));
    }
    let work = state
        .providers
        .openalex
        .work_by_doi(&doi)
        .await
        .map_err(|e| match e {
            ProviderError::NotFound { .. } => {
                AppError::field("doi", "OpenAlex has no work with this DOI")
            }
            ProviderError::RateLimited {
                retry_after_secs, ..
            } => AppError::Upstream {
                code: "upstream_rate_limited",
                message: format!(
                    "OpenAlex is rate limiting us; try again in {} seconds.",
                    retry_after_secs.unwrap_or(60)
                ),
            },
            other => AppError::Upstream {
                code: "upstream_unavailable",
                message: format!("The import failed: {other}."),
            },
        })?;
    let clip = |s: String, max: usize| s.chars().take(max).collect::<String>();
    let title = clip(work.title.clone(), 500);
    let venue = work.venue.clone().map(|v| clip(v, 300));
    let abstract_text = work.abstract_text.clone().map(|a| clip(a, 20_000));
    let paper = NewPaper::parse(RawPaper {
        title: &title,
        doi: Some(&doi),
        year: work.year,
        venue: venue.as_deref(),
        abstract_text: abstract_text.as_deref(),
        url: None,
        authors: work
            .authors
            .iter()
            .take(crate::domain::paper::MAX_AUTHORS)
            .map(|a| RawAuthor {
                name: &a.name,
                affiliation: a.affiliation.as_deref(),
                orcid: a.orcid.as_deref(),
            })
            .collect(),
    })
    .or_else(|_| lenient_import(&doi, &work))?;
    Ok((insert(state, paper, "openalex", Some(who), ip).await?, true))
}

/// OpenAlex data can be messy (bad ORCIDs, control characters); keep what
/// validates instead of refusing the whole import.
fn lenient_import(doi: &str, work: &crate::providers::openalex::Work) -> AppResult<NewPaper> {
    let authors: Vec<NewAuthor> = work
        .authors
        .iter()
        .filter_map(|a| {
            Some(NewAuthor {
                name: text::line(&a.name, 200).ok()?,
                affiliation: text::optional_line(a.affiliation.as_deref(), 300)
                    .ok()
                    .flatten(),
                orcid: a
                    .orcid
                    .as_deref()
                    .and_then(|o| crate::domain::paper::parse_orcid(o).ok().flatten()),
            })
        })
        .take(crate::domain::paper::MAX_AUTHORS)
        .collect();
    let title: String = work
        .title
        .chars()
        .filter(|c| !c.is_control())
        .take(500)
        .collect();
    NewPaper::parse(RawPaper {
        title: &title,
        doi: Some(doi),
        year: work.year.filter(|y| (1000..=2100).contains(y)),
        venue: None,
        abstract_text: None,
        url: None,
        authors: authors
            .iter()
            .map(|a| RawAuthor {
                name: &a.name,
                affiliation: a.affiliation.as_deref(),
                orcid: a.orcid.as_deref(),
            })
            .collect(),
    })
}

/// One paper, from the cache when possible.
pub async fn get(state: &AppState, id: PaperId) -> AppResult<Arc<PaperView>> {
    let db = state.db.clone();
    let found = state
        .cache
        .papers
        .try_get_with(id, async move {
            match db.read_short(move |c| papers::find(c, id)).await? {
                Some(p) => Ok(Arc::new(PaperView::from(p))),
                None => Err(AppError::NotFound),
            }
        })
        .await;
    found.map_err(|e: Arc<AppError>| match &*e {
        AppError::NotFound => AppError::NotFound,
        other => AppError::internal(other.to_string()),
    })
}

/// A paper shown to a reader (the API and the paper page): `get`, counted
/// as one view of the paper for engagement when it exists.
pub async fn view(state: &AppState, id: PaperId) -> AppResult<Arc<PaperView>> {
    let paper = get(state, id).await?;
    crate::services::engagement::record_paper_view(state, id);
    Ok(paper)
}

async fn require_paper(state: &AppState, id: PaperId) -> AppResult<()> {
    if state.db.read(move |c| papers::exists(c, id)).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn set_progress(
    state: &AppState,
    who: &Principal,
    paper: PaperId,
    percent: i64,
    wants: bool,
) -> AppResult<ProgressView> {
    let percent = u8::try_from(percent)
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| AppError::field("percent", "must be between 0 and 100"))?;
    require_paper(state, paper).await?;
    let (user, now) = (who.user_id, state.now());
    let row = state
        .db
        .write(move |tx| progress::upsert(tx, user, paper, percent, wants, now))
        .await?;
    Ok(ProgressView {
        paper_id: paper,
        percent: row.percent,
        wants_consultation: row.wants_consultation,
        updated_at: Some(row.updated_at),
    })
}

pub async fn get_progress(
    state: &AppState,
    who: &Principal,
    paper: PaperId,
) -> AppResult<ProgressView> {
    require_paper(state, paper).await?;
    let user = who.user_id;
    let row = state
        .db
        .read(move |c| progress::find(c, user, paper))
        .await?;
    Ok(match row {
        Some(r) => ProgressView {
            paper_id: paper,
            percent: r.percent,
            wants_consultation: r.wants_consultation,
            updated_at: Some(r.updated_at),
        },
        None => ProgressView {
            paper_id: paper,
            percent: 0,
            wants_consultation: false,
            updated_at: None,
        },
    })
}

pub async fn add_query(
    state: &AppState,
    who: &Principal,
    paper: PaperId,
    question: &str,
) -> AppResult<QueryView> {
    let question = text::block(question, 4000).map_err(|m| AppError::field("question", m))?;
    require_paper(state, paper).await?;
    let (keys, user, now) = (state.keys.clone(), who.user_id, state.now());
    let row = state
        .db
        .write(move |tx| queries::insert(tx, &keys, paper, user, &question, now))
        .await?;
    Ok(row.into())
}

/// The caller's queries on a paper; admins see everyone's.
pub async fn list_queries(
    state: &AppState,
    who: &Principal,
    paper: PaperId,
    page: &PageParams,
) -> AppResult<Page<QueryView>> {
    let limit = page.limit()?;
    let before = page.after_id()?;
    require_paper(state, paper).await?;
    let keys = state.keys.clone();
    let user = (!who.is_admin()).then_some(who.user_id);
    let rows = state
        .db
        .read(move |c| queries::list(c, &keys, paper, user, before, limit + 1))
        .await?;
    Ok(Page::from_rows(
        rows.into_iter().map(QueryView::from).collect(),
        limit,
        |q| q.id,
    ))
}

/// One query: its author or an admin; anyone else gets 404.
pub async fn get_query(state: &AppState, who: &Principal, id: QueryId) -> AppResult<QueryView> {
    let keys = state.keys.clone();
    let row = state
        .db
        .read(move |c| queries::find(c, &keys, id))
        .await?
        .ok_or(AppError::NotFound)?;
    if row.user_id != who.user_id && !who.is_admin() {
        return Err(AppError::NotFound);
    }
    Ok(row.into())
}

/// Paper detail by id (moka), invalidated by every write that changes it.
pub type PaperCache = moka::future::Cache<PaperId, Arc<PaperView>>;

pub fn paper_cache(cfg: &crate::config::CacheConfig) -> PaperCache {
    moka::future::Cache::builder()
        .max_capacity(cfg.max_entries)
        .time_to_live(std::time::Duration::from_secs(cfg.ttl_secs))
        .build()
}
