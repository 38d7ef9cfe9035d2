//! Admin pages for collection: jobs (with retry), providers (with
//! re-enable, and how the plans compared with Stripe), and researchers
//! (search, detail with each field's source).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::{CsrfOnly, PageForm};
use super::form_errors::FormErrors;
use super::outcome::flash_outcome;
use super::picker::{self, PickOption, Picker};
use super::PageError;
use crate::domain::{labels, JobId, JobStatus, ResearcherId};
use crate::http::extractors::{AppPath, ClientIp};
use crate::pagination::PageParams;
use crate::services::collection::{self, JobView, ProviderView};
use crate::services::payments::plan_check::{self, PlanReport};
use crate::services::researchers::{self, ResearcherView};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_jobs.html")]
pub struct JobsPage {
    pub layout: Layout,
    pub jobs: Vec<JobView>,
    pub statuses: &'static [JobStatus],
    pub status: String,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/admin_providers.html")]
pub struct ProvidersPage {
    pub layout: Layout,
    pub providers: Vec<ProviderView>,
    /// Stripe is on and `[[plans]]` are listed, so they are checked.
    pub plans_checked: bool,
    /// How the plans compared with their Stripe Prices (`None` until the
    /// check at start has ended).
    pub plan_report: Option<PlanReport>,
}

/// Provider names and outcomes in words, for the collection pages.
pub trait Words {
    fn provider<'a>(&self, code: &'a str) -> &'a str {
        labels::provider_label(code)
    }
    fn outcome<'a>(&self, code: &'a str) -> &'a str {
        labels::outcome_label(code)
    }
    fn field<'a>(&self, code: &'a str) -> &'a str {
        labels::field_label(code)
    }
}

impl Words for JobsPage {}
impl Words for ProvidersPage {}

impl ProvidersPage {
    /// When the plans were checked, in the viewer's zone.
    pub fn checked_at(&self, r: &PlanReport) -> String {
        crate::domain::zone::short(r.checked_at, self.layout.zone)
    }
}
impl Words for ResearcherPage {}

#[derive(Template)]
#[template(path = "pages/admin_researchers.html")]
pub struct ResearchersPage {
    pub layout: Layout,
    pub q: String,
    pub researchers: Vec<ResearcherView>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/admin_researcher.html")]
pub struct ResearcherPage {
    pub layout: Layout,
    pub r: ResearcherView,
    /// (field, value shown, provider, source URL, when).
    pub fields: Vec<(String, String, String, String, String)>,
    /// The account that owns the profile: (id, name, e-mail).
    pub owner: Option<(crate::domain::UserId, String, String)>,
    /// Find an account to link, and a profile to merge into this one.
    pub account_picker: Picker,
    pub merge_picker: Picker,
    /// The e-mail form as typed, after a failure.
    pub typed: AdminTyped,
    /// `errors.form`: `"email"`, `"link"` or `"merge"`.
    pub errors: FormErrors,
}

/// What an admin typed into the researcher page's forms.
#[derive(Default)]
pub struct AdminTyped {
    /// `None`: show the saved address.
    pub email: Option<String>,
    /// The link and merge forms' values: their pickers search for them.
    pub account: String,
    pub merge_id: String,
}

#[derive(Deserialize)]
pub struct ResearcherQuery {
    /// The account picker's search text (a name or an e-mail address).
    pub account_q: Option<String>,
    /// The merge picker's search text (a name).
    pub merge_q: Option<String>,
}

#[derive(Deserialize)]
pub struct JobsQuery {
    pub status: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Deserialize)]
pub struct ResearchersQuery {
    pub q: Option<String>,
    pub cursor: Option<String>,
}

pub async fn jobs_get(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<JobsQuery>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/jobs")?;
    let status = q.status.filter(|s| !s.is_empty());
    let page = collection::list_jobs(
        &state,
        &who,
        status.clone(),
        &PageParams {
            limit: Some(50),
            cursor: q.cursor,
        },
    )
    .await?;
    let status = status.unwrap_or_default();
    let next = page.next_cursor.map(|c| {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("status", &status)
            .append_pair("cursor", &c)
            .finish();
        format!("/admin/jobs?{query}")
    });
    Ok(render(&JobsPage {
        layout: viewer.layout("Collection jobs"),
        jobs: page.items,
        statuses: JobStatus::ALL,
        status,
        next,
    }))
}

pub async fn job_retry_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<JobId>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/jobs")?;
    viewer.check_csrf(&f.csrf_token)?;
    let r = collection::retry(&state, &who, id, ip).await;
    flash_outcome(
        &state,
        "/admin/jobs",
        r.map(|_| format!("Job {id} will run again shortly.")),
    )
}

pub async fn providers_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/providers")?;
    let providers = collection::providers(&state, &who).await?;
    Ok(render(&ProvidersPage {
        layout: viewer.layout("Providers"),
        providers,
        plans_checked: plan_check::applies(&state),
        plan_report: plan_check::latest(&state).await,
    }))
}

pub async fn provider_enable_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(name): AppPath<String>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/providers")?;
    viewer.check_csrf(&f.csrf_token)?;
    collection::enable_provider(&state, &who, &name, ip).await?;
    Ok(redirect_with_flash(
        &state,
        "/admin/providers",
        "success",
        &format!("{} is enabled again.", labels::provider_label(&name)),
    ))
}

pub async fn researchers_get(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ResearchersQuery>,
) -> Result<Response, PageError> {
    let who = viewer.require_admin("/admin/researchers")?;
    let name = q.q.clone().unwrap_or_default();
    let page = researchers::search(
        &state,
        &who,
        q.q,
        &PageParams {
            limit: Some(50),
            cursor: q.cursor,
        },
    )
    .await?;
    let next = page.next_cursor.map(|c| {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &name)
            .append_pair("cursor", &c)
            .finish();
        format!("/admin/researchers?{query}")
    });
    Ok(render(&ResearchersPage {
        layout: viewer.layout("Researchers"),
        q: name,
        researchers: page.items,
        next,
    }))
}

/// How a field's value reads on the provenance table.
fn shown(r: &ResearcherView, field: &str) -> String {
    let list = |v: &serde_json::Value| v.as_array().map_or(0, Vec::len);
    match field {
        "name" => r.name.clone(),
        "affiliation" => r.affiliation.clone().unwrap_or_default(),
        "orcid" => r.orcid.clone().unwrap_or_default(),
        "openalex_id" => r.openalex_id.clone().unwrap_or_default(),
        "email" => match (&r.email, &r.email_quality) {
            (Some(e), Some(q)) => format!("{e} — {q}"),
            (Some(e), None) => e.clone(),
            _ => String::new(),
        },
        "bio" => r
            .bio
            .clone()
            .unwrap_or_default()
            .chars()
            .take(160)
            .collect(),
        "homepage" => r.homepage.clone().unwrap_or_default(),
        "works_count" => r.works_count.map(|n| n.to_string()).unwrap_or_default(),
        "cited_by_count" => r.cited_by_count.map(|n| n.to_string()).unwrap_or_default(),
        "h_index" => r.h_index.map(|n| n.to_string()).unwrap_or_default(),
        "topics" => format!("{} topics", list(&r.topics)),
        "recent_works" => format!("{} works", list(&r.recent_works)),
        "publications" => format!("{} titles", list(&r.publications)),
        "achievements" => format!("{} items", list(&r.achievements)),
        _ => String::new(),
    }
}

/// The two pickers of a researcher's admin page, with what matches.
async fn pickers(
    state: &AppState,
    viewer: &Viewer,
    who: &crate::services::accounts::Principal,
    id: ResearcherId,
    q: ResearcherQuery,
) -> Result<(Picker, Picker), PageError> {
    let (account_q, merge_q) = (picker::query(&q.account_q), picker::query(&q.merge_q));
    let accounts = match &account_q {
        Some(text) => crate::services::admin::find_accounts(state, who, text).await?,
        None => Vec::new(),
    };
    let profiles = match &merge_q {
        Some(text) => {
            let page = PageParams {
                limit: Some(20),
                cursor: None,
            };
            researchers::search(state, who, Some(text.clone()), &page)
                .await?
                .items
        }
        None => Vec::new(),
    };
    let page = format!("/admin/researchers/{id}");
    let account_picker = Picker {
        id: "account-picker",
        page: page.clone(),
        query_name: "account_q",
        query: account_q.unwrap_or_default(),
        label: "Find an account to link (a name, or an exact e-mail address)",
        action: format!("/admin/researchers/{id}/link"),
        field: "account",
        button: "Link this account",
        csrf: viewer.ctx.csrf.clone(),
        options: accounts
            .into_iter()
            .map(|a| PickOption {
                id: a.id.to_string(),
                label: a.name,
                detail: format!("{} · {}", a.email, a.role.label()),
            })
            .collect(),
        hidden: Vec::new(),
    };
    let merge_picker = Picker {
        id: "merge-picker",
        page,
        query_name: "merge_q",
        query: merge_q.unwrap_or_default(),
        label: "Find a profile to merge into this one (a name)",
        action: format!("/admin/researchers/{id}/merge"),
        field: "merge_id",
        button: "Merge into this profile",
        csrf: viewer.ctx.csrf.clone(),
        options: profiles
            .into_iter()
            .filter(|p| p.id != id)
            .map(|p| PickOption {
                id: p.id.to_string(),
                label: p.name,
                detail: [p.affiliation, p.orcid.map(|o| format!("ORCID {o}"))]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
            })
            .collect(),
        hidden: Vec::new(),
    };
    Ok((account_picker, merge_picker))
}

pub async fn researcher_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ResearcherId>,
    Query(q): Query<ResearcherQuery>,
) -> Result<Response, PageError> {
    let typed = AdminTyped {
        account: q.account_q.unwrap_or_default(),
        merge_id: q.merge_q.unwrap_or_default(),
        ..AdminTyped::default()
    };
    let page = researcher_page(&state, &viewer, id, typed, FormErrors::default());
    Ok(render(&page.await?))
}

/// The researcher's admin page, its forms filled with `typed`.
pub(super) async fn researcher_page(
    state: &AppState,
    viewer: &Viewer,
    id: ResearcherId,
    typed: AdminTyped,
    errors: FormErrors,
) -> Result<ResearcherPage, PageError> {
    let who = viewer.require_admin("/admin/researchers")?;
    let r = researchers::get(state, Some(&who), id).await?;
    let fields = r
        .sources
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(field, s)| {
            let value = shown(&r, &field);
            let source = labels::provider_label(&s.provider);
            let provider = match s.set_by {
                Some(admin) => format!("{source} (account {admin})"),
                None => source.to_string(),
            };
            (
                field,
                value,
                provider,
                s.source_url.unwrap_or_default(),
                s.recorded_at,
            )
        })
        .collect();
    let owner = crate::services::claims::owner_account(state, &who, id).await?;
    let q = ResearcherQuery {
        account_q: Some(typed.account.clone()),
        merge_q: Some(typed.merge_id.clone()),
    };
    let (account_picker, merge_picker) = pickers(state, viewer, &who, id, q).await?;
    let mut errors = errors;
    if errors.form == "link" || errors.form == "merge" {
        // Pickers have no field to place a message beside: say it above.
        errors.unplace_all();
    }
    Ok(ResearcherPage {
        layout: viewer.layout(r.name.clone()),
        r,
        fields,
        owner,
        account_picker,
        merge_picker,
        typed,
        errors,
    })
}
