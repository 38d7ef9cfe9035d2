//! The account page's consent table ("what you agreed to, and when") with
//! one button per kind, and the two forms behind the buttons. Both forms
//! work before the account accepted new terms (`terms_gate::EXEMPT`).

use axum::extract::State;
use axum::response::Response;

use super::context::{Layout, Viewer};
use super::form::{CsrfOnly, PageForm};
use super::outcome::flash_outcome;
use super::PageError;
use crate::domain::{zone, ConsentKind, ConsentSource};
use crate::http::extractors::{AppPath, ClientIp};
use crate::services::accounts::Principal;
use crate::services::consents::{self, ConsentState};
use crate::state::AppState;

/// One row of the table.
pub struct ConsentLine {
    pub kind: String,
    pub label: &'static str,
    /// "given", "withdrawn", "not given", or "on (default)".
    pub state: String,
    pub version: String,
    pub since: String,
    pub source: String,
    /// The button: (action, its words), `grant` or `withdraw`.
    pub button: (&'static str, String),
}

/// An open session while the listing is withdrawn.
pub struct OpenLine {
    pub id: String,
    pub when: String,
    pub reader: String,
    pub status: &'static str,
}

#[derive(Default)]
pub struct ConsentSection {
    pub lines: Vec<ConsentLine>,
    pub history: Vec<(String, String, String, String)>,
    pub open_sessions: Vec<OpenLine>,
}

fn line(s: &ConsentState, layout: &Layout) -> ConsentLine {
    let date = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| zone::date(t, layout.zone)).unwrap_or_default()
    };
    let outdated =
        s.version.is_some() && s.current_version.is_some() && s.version != s.current_version;
    let state = match (s.granted, s.source, s.withdrawn_at) {
        (true, None, _) => "on (default)".to_string(),
        (true, _, _) if outdated => "given for an earlier version".to_string(),
        (true, _, _) => "given".to_string(),
        (false, _, Some(_)) => "withdrawn".to_string(),
        (false, _, None) => "not given".to_string(),
    };
    let button = if s.granted && !outdated {
        ("withdraw", "Withdraw".to_string())
    } else {
        match &s.current_version {
            Some(v) => ("grant", format!("Accept version {v}")),
            None => ("grant", "Give".to_string()),
        }
    };
    ConsentLine {
        kind: s.kind.as_str().into(),
        label: s.kind.label(),
        version: s.version.clone().unwrap_or_default(),
        since: if s.granted {
            date(s.granted_at)
        } else {
            date(s.withdrawn_at)
        },
        source: s.source.map(|x| x.label()).unwrap_or("").into(),
        state,
        button,
    }
}

/// The section for the account page.
pub async fn section(
    state: &AppState,
    who: &Principal,
    layout: &Layout,
) -> Result<ConsentSection, PageError> {
    let c = consents::list(state, who).await?;
    let date = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| zone::date(t, layout.zone))
            .unwrap_or_else(|| "—".into())
    };
    Ok(ConsentSection {
        lines: c.current.iter().map(|s| line(s, layout)).collect(),
        history: c
            .history
            .iter()
            .map(|e| {
                let what = match &e.version {
                    Some(v) => format!("{} (version {v})", e.kind.label()),
                    None => e.kind.label().to_string(),
                };
                (
                    what,
                    date(e.granted_at),
                    date(e.withdrawn_at),
                    e.source.label().to_string(),
                )
            })
            .collect(),
        open_sessions: c
            .open_sessions
            .iter()
            .map(|o| OpenLine {
                id: o.id.to_string(),
                when: zone::local(o.start, layout.zone),
                reader: o.reader_name.clone(),
                status: o.status.label(),
            })
            .collect(),
    })
}

const BACK: &str = "/account#consents";

fn done(kind: ConsentKind, grant: bool) -> &'static str {
    match (kind, grant) {
        (ConsentKind::ResearcherListing, false) => {
            "Your profile is hidden from search and booking. Your open sessions stay; we sent you an e-mail listing them."
        }
        (ConsentKind::ResearcherListing, true) => "Your profile is listed and bookable again.",
        (ConsentKind::Terms | ConsentKind::PrivacyNotice, false) => {
            "Withdrawn. You can use the service again once you accept the current version."
        }
        (_, true) => "Saved: consent given.",
        (_, false) => "Saved: consent withdrawn. Those e-mails stop.",
    }
}

async fn change(
    state: AppState,
    viewer: Viewer,
    ip: Option<std::net::IpAddr>,
    kind: String,
    csrf: String,
    grant: bool,
) -> Result<Response, PageError> {
    let who = viewer.require(BACK)?;
    viewer.check_csrf(&csrf)?;
    let result = match consents::parse_kind(&kind) {
        Ok(k) => {
            let r = if grant {
                consents::grant(&state, &who, k, ConsentSource::Account, ip).await
            } else {
                consents::withdraw(&state, &who, k, ConsentSource::Account, ip).await
            };
            r.map(|_| done(k, grant))
        }
        Err(e) => Err(e),
    };
    flash_outcome(&state, BACK, result)
}

pub async fn grant_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(kind): AppPath<String>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    change(state, viewer, ip, kind, f.csrf_token, true).await
}

pub async fn withdraw_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(kind): AppPath<String>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    change(state, viewer, ip, kind, f.csrf_token, false).await
}
