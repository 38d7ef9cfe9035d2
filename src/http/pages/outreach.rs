//! Outreach pages: the invitation landing page (see and correct the
//! profile, set a password), bad links, one-click opt-out and "invite this
//! author" (the admins' view is `admin_outreach.rs`).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, render_status, Layout, Viewer};
use super::form::PageForm;
use super::form_errors::{FormErrors, Labels};
use super::zones::ZoneField;
use super::PageError;
use crate::domain::{PaperId, ResearcherId};
use crate::http::extractors::{AppPath, ClientIp};
use crate::services::accounts;
use crate::services::link_tokens::LinkProblem;
use crate::services::outreach::{self, Corrections, ResearcherRegistration};
use crate::services::researchers::ResearcherView;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/invite.html")]
pub struct InvitePage {
    pub layout: Layout,
    pub token: String,
    pub r: ResearcherView,
    pub publications: String,
    pub achievements: String,
    pub errors: FormErrors,
    /// The terms box as the form came back (ticked again after a failure).
    pub accepted: bool,
    pub terms_version: String,
    pub min_len: usize,
    /// An account has the link's address: sign in and link, not register.
    pub account_exists: bool,
    /// Pre-selected: the browser's zone.
    pub zone_field: ZoneField,
}

impl InvitePage {
    /// Where a value came from, in words.
    pub fn provider<'a>(&self, code: &'a str) -> &'a str {
        crate::domain::labels::provider_label(code)
    }
}

#[derive(Template)]
#[template(path = "pages/link_problem.html")]
pub struct LinkProblemPage {
    pub layout: Layout,
    pub explanation: String,
    pub token: String,
    pub can_renew: bool,
}

#[derive(Template)]
#[template(path = "pages/opt_out.html")]
pub struct OptOutPage {
    pub layout: Layout,
    pub token: String,
    pub name: String,
    pub done: bool,
}

#[derive(Deserialize)]
pub struct InviteForm {
    pub csrf_token: String,
    pub name: String,
    pub password: String,
    pub timezone: String,
    pub accept_terms: Option<String>,
    pub bio: String,
    pub affiliation: String,
    pub homepage: String,
    pub publications: String,
    pub achievements: String,
}

#[derive(Deserialize)]
pub struct LinkForm {
    pub csrf_token: String,
    pub timezone: String,
    pub accept_terms: Option<String>,
}

#[derive(Deserialize)]
pub struct RenewForm {
    pub csrf_token: String,
    pub token: String,
}

#[derive(Deserialize)]
pub struct InviteAuthorForm {
    pub csrf_token: String,
    pub paper_id: Option<PaperId>,
    /// Where to go afterwards (a local path), e.g. the admin outreach page.
    pub return_to: Option<String>,
}

const INVITE_LABELS: Labels = &[
    ("name", "Name"),
    ("password", "Password"),
    ("timezone", "Time zone"),
    ("accept_terms", "Terms"),
    ("bio", "Bio"),
    ("affiliation", "Affiliation"),
    ("homepage", "Homepage"),
    ("publications", "Publications"),
    ("achievements", "Achievements"),
];

fn lines(v: &serde_json::Value, f: impl Fn(&serde_json::Value) -> Option<String>) -> String {
    v.as_array()
        .map(|a| a.iter().filter_map(&f).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default()
}

fn invite_page(
    viewer: &Viewer,
    state: &AppState,
    token: String,
    r: ResearcherView,
    account_exists: bool,
) -> InvitePage {
    let publications = lines(&r.publications, |p| p.as_str().map(str::to_string));
    let achievements = lines(&r.achievements, |a| {
        let text = a["text"].as_str()?;
        Some(match a["source_url"].as_str().filter(|u| !u.is_empty()) {
            Some(u) => format!("{text} | {u}"),
            None => text.to_string(),
        })
    });
    InvitePage {
        layout: viewer.layout("Your profile"),
        token,
        r,
        publications,
        achievements,
        errors: FormErrors::default(),
        accepted: false,
        terms_version: state.config.institution.terms_version.clone(),
        min_len: state.config.auth.password_min_length,
        account_exists,
        zone_field: ZoneField::for_viewer("Your time zone", viewer),
    }
}

/// The zone field as submitted, with its error.
fn submitted_zone(zone: String, errors: &FormErrors) -> ZoneField {
    ZoneField::new("Your time zone", zone).with_errors(errors)
}

fn link_problem(viewer: &Viewer, problem: LinkProblem, token: &str, can_renew: bool) -> Response {
    let page = LinkProblemPage {
        layout: viewer.layout("Link problem"),
        explanation: problem.explanation().into(),
        token: token.into(),
        can_renew,
    };
    render_status(axum::http::StatusCode::GONE, &page)
}

pub async fn invite_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(token): AppPath<String>,
) -> Response {
    match outreach::landing(&state, &token).await {
        Ok(l) => render(&invite_page(
            &viewer,
            &state,
            token,
            l.profile,
            l.account_exists,
        )),
        Err((problem, claims)) => link_problem(&viewer, problem, &token, claims.is_some()),
    }
}

fn corrections(f: &InviteForm) -> Corrections {
    Corrections {
        bio: Some(f.bio.clone()),
        affiliation: Some(f.affiliation.clone()),
        homepage: Some(f.homepage.clone()),
        publications: Some(f.publications.lines().map(str::to_string).collect()),
        achievements: Some(
            f.achievements
                .lines()
                .map(|l| match l.rsplit_once(" | ") {
                    Some((t, u)) => (t.to_string(), Some(u.trim().to_string())),
                    None => (l.to_string(), None),
                })
                .collect(),
        ),
    }
}

/// Only fields the researcher changed count as corrections.
fn changed(
    c: Corrections,
    r: &ResearcherView,
    publications: &str,
    achievements: &str,
) -> Corrections {
    let same = |new: &Option<String>, old: &str| new.as_deref().map(str::trim) == Some(old.trim());
    Corrections {
        bio: c
            .bio
            .clone()
            .filter(|_| !same(&c.bio, r.bio.as_deref().unwrap_or(""))),
        affiliation: c
            .affiliation
            .clone()
            .filter(|_| !same(&c.affiliation, r.affiliation.as_deref().unwrap_or(""))),
        homepage: c
            .homepage
            .clone()
            .filter(|_| !same(&c.homepage, r.homepage.as_deref().unwrap_or(""))),
        publications: c
            .publications
            .filter(|p| p.join("\n").trim() != publications.trim()),
        achievements: c.achievements.filter(|a| {
            let joined: Vec<String> = a
                .iter()
                .map(|(t, u)| u.as_ref().map_or(t.clone(), |u| format!("{t} | {u}")))
                .collect();
            joined.join("\n").trim() != achievements.trim()
        }),
    }
}

pub async fn invite_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(token): AppPath<String>,
    PageForm(f): PageForm<InviteForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&f.csrf_token)?;
    let landing = match outreach::landing(&state, &token).await {
        Ok(l) => l,
        Err((problem, claims)) => {
            return Ok(link_problem(&viewer, problem, &token, claims.is_some()))
        }
    };
    let current = invite_page(
        &viewer,
        &state,
        token.clone(),
        landing.profile.clone(),
        landing.account_exists,
    );
    let reg = ResearcherRegistration {
        token: token.clone(),
        password: f.password.clone(),
        name: Some(f.name.clone()),
        timezone: Some(f.timezone.clone()),
        accept_terms: f.accept_terms.is_some(),
        corrections: changed(
            corrections(&f),
            &landing.profile,
            &current.publications,
            &current.achievements,
        ),
    };
    let rid = landing.profile.id;
    match outreach::register(&state, reg, ip).await {
        Ok(user) => {
            let login = accounts::login_web(&state, &user.email, &f.password, ip).await?;
            let to = format!("/researchers/{rid}/availability");
            Ok(super::auth::session_cookie_response(
                &state,
                &to,
                login.cookie_token,
                "Welcome! Your profile is registered. Publish the times readers may book you.",
            ))
        }
        Err(e) => {
            let mut page = current;
            page.errors = FormErrors::from_error("", e, INVITE_LABELS)?;
            keep_typed(&mut page, f);
            Ok(page.errors.respond(&page))
        }
    }
}

/// The invitation form shows what was typed, not the collected profile.
fn keep_typed(page: &mut InvitePage, f: InviteForm) {
    let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    page.r.name = f.name;
    page.r.affiliation = some(f.affiliation);
    page.r.homepage = some(f.homepage);
    page.r.bio = some(f.bio);
    page.publications = f.publications;
    page.achievements = f.achievements;
    page.zone_field = submitted_zone(f.timezone, &page.errors);
    page.accepted = f.accept_terms.is_some();
}

/// A signed-in account whose address got the link links the profile.
pub async fn invite_link_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(token): AppPath<String>,
    PageForm(f): PageForm<LinkForm>,
) -> Result<Response, PageError> {
    let who = viewer.require(&format!("/invite/{token}"))?;
    viewer.check_csrf(&f.csrf_token)?;
    let accept = f.accept_terms.is_some();
    let timezone = f.timezone.clone();
    match outreach::link_profile(&state, &who, &token, accept, Some(f.timezone), ip).await {
        Ok(rid) => Ok(redirect_with_flash(
            &state,
            &format!("/researchers/{rid}/availability"),
            "success",
            "The profile is linked to your account. Publish the times readers may book you.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error("link", e, INVITE_LABELS)?;
            match outreach::landing(&state, &token).await {
                Ok(l) => {
                    let mut page = invite_page(&viewer, &state, token, l.profile, l.account_exists);
                    page.errors = errors;
                    page.zone_field = submitted_zone(timezone, &page.errors);
                    page.accepted = accept;
                    Ok(page.errors.respond(&page))
                }
                Err((problem, claims)) => {
                    Ok(link_problem(&viewer, problem, &token, claims.is_some()))
                }
            }
        }
    }
}

pub async fn renew_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<RenewForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&f.csrf_token)?;
    match outreach::renew(&state, &f.token, ip).await {
        Ok(delivery) => Ok(super::outcome::mail_outcome(
            &state,
            "/",
            delivery,
            false,
            "A new link is on its way to your inbox.",
            "A new link is made, but e-mail is held on this server: an admin must send it to you.",
        )),
        Err(e) => super::outcome::flash_failure(&state, "/", e),
    }
}

pub async fn opt_out_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(token): AppPath<String>,
) -> Result<Response, PageError> {
    let name = outreach::opt_out_name(&state, &token).await?;
    Ok(render(&OptOutPage {
        layout: viewer.layout("Opt out"),
        token,
        name,
        done: false,
    }))
}

/// The confirming button, and RFC 8058 one-click (a POST from the mail
/// client): the signed link itself authorises it, so no CSRF token.
pub async fn opt_out_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(token): AppPath<String>,
) -> Result<Response, PageError> {
    let name = outreach::opt_out(&state, &token, ip).await?;
    Ok(render(&OptOutPage {
        layout: viewer.layout("Opted out"),
        token: String::new(),
        name,
        done: true,
    }))
}

pub async fn invite_author_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ResearcherId>,
    PageForm(f): PageForm<InviteAuthorForm>,
) -> Result<Response, PageError> {
    let back = match f.return_to.as_deref() {
        Some(to) => super::form::safe_next(Some(to)),
        None => f
            .paper_id
            .map_or(format!("/researchers/{id}"), |p| format!("/papers/{p}")),
    };
    let who = viewer.require(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    match outreach::request(&state, &who, id, f.paper_id, None, ip).await {
        Ok(o) if who.is_admin() => Ok(super::outcome::mail_outcome(
            &state,
            &back,
            o.mail,
            true,
            "The invitation is on its way.",
            "The invitation is held: an admin must send it from the mailbox.",
        )),
        Ok(o) => Ok(super::outcome::mail_outcome(
            &state,
            &back,
            o.mail,
            false,
            "We have invited this author; your interest is recorded.",
            "Your interest is recorded. The invitation is held: an admin must send it.",
        )),
        Err(e) => super::outcome::flash_failure(&state, &back, e),
    }
}
