//! Paper search, detail, adding and importing papers, reading progress.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::PageForm;
use super::form_errors::{FormErrors, Labels};
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
    /// The reading form as shown: saved, or as typed after a failure.
    pub percent: String,
    pub wants_consultation: bool,
    pub errors: FormErrors,
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
    /// `form` is `"import"` or `"new"`: both forms have a DOI field.
    pub errors: FormErrors,
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
        paper_search::reader_search(state, non_empty(&qs), non_empty(&author), bookable, &page)
            .await;
    match found {
        Ok(p) => {
            let p = &p.value;
            let next_url = p.next_cursor.as_ref().map(|c| {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("q", &qs).append_pair("author", &author);
                if bookable {
                    query.append_pair("bookable", "true");
                }
                format!("/papers?{}", query.append_pair("cursor", c).finish())
            });
            ResultsPartial {
                q: qs,
                author,
                bookable,
                papers: p.items.clone(),
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
    let paper = papers::view(&state, id).await?;
    Ok(render(
        &paper_page(&state, &viewer, paper, None, FormErrors::default()).await?,
    ))
}

/// The page of `paper` (from `papers::view` when it is shown afresh, else
/// `papers::get`); `typed` is the reading form as submitted.
async fn paper_page(
    state: &AppState,
    viewer: &Viewer,
    paper: std::sync::Arc<PaperView>,
    typed: Option<&ProgressForm>,
    errors: FormErrors,
) -> Result<PaperPage, PageError> {
    let paper = (*paper).clone();
    let progress = match &viewer.session {
        Some(_) => Some(papers::get_progress(state, &viewer.require("/")?, paper.id).await?),
        None => None,
    };
    let (percent, wants_consultation) = match (typed, &progress) {
        (Some(f), _) => (f.percent.clone(), f.wants_consultation.is_some()),
        (None, Some(p)) => (p.percent.to_string(), p.wants_consultation),
        (None, None) => (String::new(), false),
    };
    let collection = super::collection::partial(state, viewer, paper.id).await?;
    let profiles = researchers::author_profiles(state, paper.id).await?;
    Ok(PaperPage {
        layout: viewer.layout(paper.title.clone()),
        paper,
        profiles,
        progress,
        percent,
        wants_consultation,
        errors,
        collection,
    })
}

pub async fn new_get(viewer: Viewer) -> Result<Response, PageError> {
    viewer.require("/papers/new")?;
    Ok(render(&NewPaperPage {
        layout: viewer.layout("Add a paper"),
        form: NewPaperForm::default(),
        errors: FormErrors::default(),
        doi: String::new(),
    }))
}

const PAPER_LABELS: Labels = &[
    ("title", "Title"),
    ("doi", "DOI"),
    ("year", "Year"),
    ("venue", "Venue"),
    ("abstract", "Abstract"),
    ("authors", "Authors"),
    ("authors.name", "the name"),
    ("authors.affiliation", "the affiliation"),
    ("authors.orcid", "the ORCID"),
];

type AuthorLine = (String, Option<String>, Option<String>);

/// Parses the author lines of the form, with the (1-based) line of each.
fn author_lines(text: &str) -> (Vec<AuthorLine>, Vec<usize>) {
    text.lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(n, l)| {
            let mut parts = l.split(';').map(|p| p.trim().to_string());
            let name = parts.next().unwrap_or_default();
            let opt = |p: Option<String>| p.filter(|s| !s.is_empty());
            ((name, opt(parts.next()), opt(parts.next())), n + 1)
        })
        .unzip()
}

/// The paper page again after "Invite by e-mail" on a researcher card
/// failed: the typed address and the problem stay on that card.
pub(super) async fn invite_failed(
    state: &AppState,
    viewer: &Viewer,
    paper: PaperId,
    researcher: ResearcherId,
    email: String,
    e: AppError,
) -> Result<Response, PageError> {
    let errors = FormErrors::from_error("invite", e, &[("email", "The e-mail address")])?;
    let paper = papers::get(state, paper).await?;
    let mut page = paper_page(state, viewer, paper, None, FormErrors::default()).await?;
    page.collection.invite = Some((researcher, email));
    page.collection.errors = errors;
    Ok(page.collection.errors.respond(&page))
}

/// Adds a paper, or shows the form again with every problem at once.
pub async fn new_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<NewPaperForm>,
) -> Result<Response, PageError> {
    let who = viewer.require("/papers/new")?;
    viewer.check_csrf(&f.csrf_token)?;
    let mut errors = FormErrors::new("new");
    let year = match f.year.trim() {
        "" => None,
        y => y
            .parse::<i32>()
            .map_err(|_| errors.add("year", "Year must be a number like 2017."))
            .ok(),
    };
    let (authors, lines) = author_lines(&f.authors);
    errors.lines("authors", lines);
    let input = PaperInput {
        title: f.title.clone(),
        doi: Some(f.doi.clone()),
        year,
        venue: Some(f.venue.clone()),
        abstract_text: Some(f.abstract_text.clone()),
        authors,
    };
    let result = if errors.failed() {
        papers::check(&input).map(|_| None)
    } else {
        papers::create(&state, &who, input, ip).await.map(Some)
    };
    match result {
        Ok(Some(p)) => {
            return Ok(redirect_with_flash(
                &state,
                &format!("/papers/{}", p.id),
                "success",
                "The paper was added.",
            ))
        }
        Ok(None) => {}
        Err(e) => errors.absorb(e, PAPER_LABELS)?,
    }
    let page = NewPaperPage {
        layout: viewer.layout("Add a paper"),
        errors,
        form: f,
        doi: String::new(),
    };
    Ok(page.errors.respond(&page))
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
            let page = NewPaperPage {
                layout: viewer.layout("Add a paper"),
                form: NewPaperForm::default(),
                errors: FormErrors::from_error("import", e, &[("doi", "DOI")])?,
                doi: f.doi,
            };
            Ok(page.errors.respond(&page))
        }
    }
}

/// Saves reading progress, or shows the paper page again with the typed
/// value and the problem next to it.
pub async fn progress_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<PaperId>,
    PageForm(f): PageForm<ProgressForm>,
) -> Result<Response, PageError> {
    let who = viewer.require(&format!("/papers/{id}"))?;
    viewer.check_csrf(&f.csrf_token)?;
    let result = match f.percent.trim().parse::<i64>() {
        Ok(percent) => {
            papers::set_progress(&state, &who, id, percent, f.wants_consultation.is_some()).await
        }
        Err(_) => Err(AppError::field("percent", "must be a number from 0 to 100")),
    };
    match result {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            &format!("/papers/{id}"),
            "success",
            "Your progress is saved.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error("progress", e, &[("percent", "Progress")])?;
            let paper = papers::get(&state, id).await?;
            let page = paper_page(&state, &viewer, paper, Some(&f), errors).await?;
            Ok(page.errors.respond(&page))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::author_lines;

    #[test]
    fn author_lines_split_into_name_affiliation_orcid() {
        let (a, lines) =
            author_lines("Ada Lovelace; Analytical Society\n\n Alan Turing;; 0000-0002-1825-0097 ");
        assert_eq!(lines, [1, 3]);
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
