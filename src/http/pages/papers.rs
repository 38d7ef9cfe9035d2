//! Paper search, detail, adding and importing papers, reading progress.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, render_status, Layout, Viewer};
use super::form::PageForm;
use super::outcome::flash_outcome;
use super::PageError;
use crate::domain::{PaperId, ResearcherId};
use crate::error::AppError;
use crate::http::extractors::{AppPath, ClientIp};
use crate::pagination::PageParams;
use crate::services::paper_search::{self, PaperHit};
use crate::services::papers::{self, PaperInput, PaperView, ProgressView};
use crate::services::researchers;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/papers.html")]
pub struct SearchPage {
    pub layout: Layout,
    pub results: ResultsPartial,
}

#[derive(Template)]
#[template(path = "partials/paper_results.html")]
pub struct ResultsPartial {
    pub q: String,
    pub author: String,
    /// Only papers with a bookable author.
    pub bookable: bool,
    pub papers: Vec<PaperHit>,
    pub next_url: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/paper.html")]
pub struct PaperPage {
    pub layout: Layout,
    pub paper: PaperView,
    /// The profile behind each author, by position (collected authors).
    pub profiles: std::collections::BTreeMap<i64, ResearcherId>,
    pub progress: Option<ProgressView>,
    pub collection: super::collection::CollectionPartial,
}

impl PaperPage {
    /// The profile of the author at `position`, if collected.
    pub fn profile_of(&self, position: &i64) -> Option<ResearcherId> {
        self.profiles.get(position).copied()
    }
}

#[derive(Template)]
#[template(path = "pages/paper_new.html")]
pub struct NewPaperPage {
    pub layout: Layout,
    pub form: NewPaperForm,
    pub errors: BTreeMap<String, String>,
    pub error: Option<String>,
    pub doi: String,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub author: Option<String>,
    /// The "only bookable authors" box (`true`, `on` or `1` when ticked).
    pub bookable: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NewPaperForm {
    #[serde(default)]
    pub csrf_token: String,
    pub title: String,
    pub doi: String,
    pub year: String,
    pub venue: String,
    #[serde(rename = "abstract")]
    pub abstract_text: String,
    /// One author per line: `Name; Affiliation; ORCID`.
    pub authors: String,
}

#[derive(Deserialize)]
pub struct ImportForm {
    pub csrf_token: String,
    pub doi: String,
}

#[derive(Deserialize)]
pub struct ProgressForm {
    pub csrf_token: String,
    pub percent: String,
    pub wants_consultation: Option<String>,
}

async fn results(state: &AppState, q: SearchQuery) -> ResultsPartial {
    let page = PageParams {
        limit: Some(20),
        cursor: q.cursor,
    };
    let (qs, author) = (q.q.unwrap_or_default(), q.author.unwrap_or_default());
    let bookable = matches!(q.bookable.as_deref(), Some("true" | "on" | "1"));
    let non_empty = |s: &String| (!s.trim().is_empty()).then(|| s.clone());
    let found =
        paper_search::search(state, non_empty(&qs), non_empty(&author), bookable, &page).await;
    match found {
        Ok(p) => {
            let next_url = p.next_cursor.map(|c| {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("q", &qs).append_pair("author", &author);
                if bookable {
                    query.append_pair("bookable", "true");
                }
                format!("/papers?{}", query.append_pair("cursor", &c).finish())
            });
            ResultsPartial {
                q: qs,
                author,
                bookable,
                papers: p.items,
                next_url,
                error: None,
            }
        }
        Err(e) => ResultsPartial {
            q: qs,
            author,
            bookable,
            papers: vec![],
            next_url: None,
            error: Some(e.public_message()),
        },
    }
}

pub async fn home(State(state): State<AppState>, viewer: Viewer) -> Response {
    let results = results(
        &state,
        SearchQuery {
            q: None,
            author: None,
            bookable: None,
            cursor: None,
        },
    )
    .await;
    render(&SearchPage {
        layout: viewer.layout("Find a paper"),
        results,
    })
}

/// The search page; htmx requests get only the result list.
pub async fn search_get(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let results = results(&state, q).await;
    if headers.contains_key("hx-request") {
        return render(&results);
    }
    render(&SearchPage {
        layout: viewer.layout("Find a paper"),
        results,
    })
}

pub async fn paper_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<PaperId>,
) -> Result<Response, PageError> {
    let paper = (*papers::get(&state, id).await?).clone();
    let progress = match &viewer.session {
        Some(_) => Some(papers::get_progress(&state, &viewer.require("/")?, paper.id).await?),
        None => None,
    };
    let collection = super::collection::partial(&state, &viewer, paper.id).await?;
    let profiles = researchers::author_profiles(&state, paper.id).await?;
    Ok(render(&PaperPage {
        layout: viewer.layout(paper.title.clone()),
        paper,
        profiles,
        progress,
        collection,
    }))
}

pub async fn new_get(viewer: Viewer) -> Result<Response, PageError> {
    viewer.require("/papers/new")?;
    Ok(render(&NewPaperPage {
        layout: viewer.layout("Add a paper"),
        form: NewPaperForm::default(),
        errors: BTreeMap::new(),
        error: None,
        doi: String::new(),
    }))
}

/// Parses the author lines of the form.
fn author_lines(text: &str) -> Vec<(String, Option<String>, Option<String>)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.split(';').map(|p| p.trim().to_string());
            let name = parts.next().unwrap_or_default();
            let opt = |p: Option<String>| p.filter(|s| !s.is_empty());
            (name, opt(parts.next()), opt(parts.next()))
        })
        .collect()
}

pub async fn new_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<NewPaperForm>,
) -> Result<Response, PageError> {
    let who = viewer.require("/papers/new")?;
    viewer.check_csrf(&f.csrf_token)?;
    let year = match f.year.trim() {
        "" => Ok(None),
        y => y
            .parse::<i32>()
            .map(Some)
            .map_err(|_| AppError::field("year", "must be a number like 2017")),
    };
    let result = match year {
        Ok(year) => {
            let input = PaperInput {
                title: f.title.clone(),
                doi: Some(f.doi.clone()),
                year,
                venue: Some(f.venue.clone()),
                abstract_text: Some(f.abstract_text.clone()),
                authors: author_lines(&f.authors),
            };
            papers::create(&state, &who, input, ip).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => Ok(redirect_with_flash(
            &state,
            &format!("/papers/{}", p.id),
            "success",
            "The paper was added.",
        )),
        Err(e) => {
            let p = super::errors::on_form(e)?;
            let page = NewPaperPage {
                layout: viewer.layout("Add a paper"),
                errors: p.fields,
                error: Some(p.message),
                form: f,
                doi: String::new(),
            };
            Ok(render_status(p.status, &page))
        }
    }
}

pub async fn import_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<ImportForm>,
) -> Result<Response, PageError> {
    let who = viewer.require("/papers/new")?;
    viewer.check_csrf(&f.csrf_token)?;
    match papers::import_doi(&state, &who, &f.doi, ip).await {
        Ok((p, created)) => {
            let msg = if created {
                "The paper was imported from OpenAlex."
            } else {
                "This paper was already here."
            };
            Ok(redirect_with_flash(
                &state,
                &format!("/papers/{}", p.id),
                "success",
                msg,
            ))
        }
        Err(e) => {
            let p = super::errors::on_form(e)?;
            let page = NewPaperPage {
                layout: viewer.layout("Add a paper"),
                form: NewPaperForm::default(),
                errors: BTreeMap::new(),
                error: Some(p.message),
                doi: f.doi,
            };
            Ok(render_status(p.status, &page))
        }
    }
}

pub async fn progress_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<PaperId>,
    PageForm(f): PageForm<ProgressForm>,
) -> Result<Response, PageError> {
    let who = viewer.require(&format!("/papers/{id}"))?;
    viewer.check_csrf(&f.csrf_token)?;
    let to = format!("/papers/{id}");
    let Ok(percent) = f.percent.trim().parse::<i64>() else {
        return Ok(redirect_with_flash(
            &state,
            &to,
            "error",
            "Progress must be a number from 0 to 100.",
        ));
    };
    let r = papers::set_progress(&state, &who, id, percent, f.wants_consultation.is_some()).await;
    flash_outcome(&state, &to, r.map(|_| "Your progress is saved."))
}

#[cfg(test)]
mod tests {
    use super::author_lines;

    #[test]
    fn author_lines_split_into_name_affiliation_orcid() {
        let a =
            author_lines("Ada Lovelace; Analytical Society\n\n Alan Turing;; 0000-0002-1825-0097 ");
        assert_eq!(
            a[0],
            (
                "Ada Lovelace".into(),
                Some("Analytical Society".into()),
                None
            )
        );
        assert_eq!(
            a[1],
            (
                "Alan Turing".into(),
                None,
                Some("0000-0002-1825-0097".into())
            )
        );
    }
}
