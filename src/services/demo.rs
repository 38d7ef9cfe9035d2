//! `colloquy demo`: loads about twenty real, well-known papers with their
//! real authors and affiliations, so a newcomer sees a working site.

use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::services::papers::{self, PaperInput};
use crate::state::AppState;

const DATA: &str = include_str!("../../demo/papers.json");

#[derive(Deserialize)]
struct DemoPaper {
    title: String,
    doi: Option<String>,
    year: Option<i32>,
    venue: Option<String>,
    #[serde(rename = "abstract")]
    abstract_text: Option<String>,
    authors: Vec<DemoAuthor>,
}

#[derive(Deserialize)]
struct DemoAuthor {
    name: String,
    affiliation: Option<String>,
    orcid: Option<String>,
}

pub struct DemoReport {
    pub inserted: usize,
    pub skipped: usize,
}

/// Inserts the demo papers that are not there yet (safe to run twice).
pub async fn load(state: &AppState) -> AppResult<DemoReport> {
    let data: Vec<DemoPaper> =
        serde_json::from_str(DATA).map_err(|e| AppError::internal(format!("demo data: {e}")))?;
    let mut report = DemoReport {
        inserted: 0,
        skipped: 0,
    };
    for p in data {
        let input = PaperInput {
            title: p.title,
            doi: p.doi,
            year: p.year,
            venue: p.venue,
            abstract_text: p.abstract_text,
            authors: p
                .authors
                .into_iter()
                .map(|a| (a.name, a.affiliation, a.orcid))
                .collect(),
        };
        if papers::create_demo(state, input).await? {
            report.inserted += 1;
        } else {
            report.skipped += 1;
        }
    }
    Ok(report)
}
