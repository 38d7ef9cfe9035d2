//! OpenAlex (free scholarly metadata): works by DOI, for paper import.

use std::time::Duration;

use serde::Deserialize;

use super::ProviderError;
use crate::config::OpenAlexConfig;

const NAME: &str = "OpenAlex";

#[derive(Clone)]
pub struct OpenAlexClient {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    mailto: Option<String>,
}

/// A work as Colloquy needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Work {
    pub title: String,
    pub doi: Option<String>,
    pub year: Option<i32>,
    pub venue: Option<String>,
    pub abstract_text: Option<String>,
    pub authors: Vec<WorkAuthor>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkAuthor {
    pub name: String,
    pub affiliation: Option<String>,
    pub orcid: Option<String>,
}

#[derive(Deserialize)]
struct WireWork {
    display_name: Option<String>,
    title: Option<String>,
    doi: Option<String>,
    publication_year: Option<i32>,
    primary_location: Option<WireLocation>,
    abstract_inverted_index: Option<std::collections::BTreeMap<String, Vec<usize>>>,
    #[serde(default)]
    authorships: Vec<WireAuthorship>,
}

#[derive(Deserialize)]
struct WireLocation {
    source: Option<WireSource>,
}

#[derive(Deserialize)]
struct WireSource {
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct WireAuthorship {
    author: WireAuthor,
    #[serde(default)]
    institutions: Vec<WireInstitution>,
    #[serde(default)]
    raw_affiliation_strings: Vec<String>,
}

#[derive(Deserialize)]
struct WireAuthor {
    display_name: Option<String>,
    orcid: Option<String>,
}

#[derive(Deserialize)]
struct WireInstitution {
    display_name: Option<String>,
}

/// Percent-encodes what would end or change the path (`%`, `?`, `#`, and
/// anything outside printable ASCII); the DOI's own `/` stays as it is.
fn encode_doi(doi: &str) -> String {
    let mut out = String::with_capacity(doi.len());
    for b in doi.bytes() {
        match b {
            b'%' | b'?' | b'#' | b' ' | b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|'
            | b'}' => out.push_str(&format!("%{b:02X}")),
            0x21..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn strip(prefix: &str, s: Option<String>) -> Option<String> {
    s.map(|v| v.strip_prefix(prefix).map(str::to_string).unwrap_or(v))
}

/// OpenAlex ships abstracts as word → positions; rebuild the text.
fn rebuild_abstract(index: std::collections::BTreeMap<String, Vec<usize>>) -> Option<String> {
    let mut words: Vec<(usize, String)> = index
        .into_iter()
        .flat_map(|(w, ps)| ps.into_iter().map(move |p| (p, w.clone())))
        .collect();
    if words.is_empty() {
        return None;
    }
    words.sort_by_key(|(p, _)| *p);
    Some(
        words
            .into_iter()
            .map(|(_, w)| w)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

impl OpenAlexClient {
    pub fn new(cfg: &OpenAlexConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(cfg.timeout_secs.max(1)))
            .user_agent(concat!("colloquy/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base_url: cfg.base_url.trim_end_matches('/').to_string(),
            api_key: cfg
                .api_key
                .is_set()
                .then(|| cfg.api_key.expose().to_string()),
            mailto: (!cfg.mailto.is_empty()).then(|| cfg.mailto.clone()),
        })
    }

    /// Fetches one work by its bare DOI (`10.x/y`).
    pub async fn work_by_doi(&self, doi: &str) -> Result<Work, ProviderError> {
        let url = format!("{}/works/doi:{}", self.base_url, encode_doi(doi));
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(k) = &self.api_key {
            query.push(("api_key", k));
        }
        if let Some(m) = &self.mailto {
            query.push(("mailto", m));
        }
        let resp = self
            .http
            .get(&url)
            .query(&query)
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(NAME, e))?;
        let status = resp.status().as_u16();
        match status {
            200 => {}
            401 | 403 => return Err(ProviderError::BadKey { provider: NAME }),
            404 => return Err(ProviderError::NotFound { provider: NAME }),
            429 => {
                let retry = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                return Err(ProviderError::RateLimited {
                    provider: NAME,
                    retry_after_secs: retry,
                });
            }
            _ => {
                return Err(ProviderError::Status {
                    provider: NAME,
                    status,
                })
            }
        }
        let wire: WireWork = resp.json().await.map_err(|e| ProviderError::Malformed {
            provider: NAME,
            detail: e.to_string(),
        })?;
        let title = wire
            .display_name
            .or(wire.title)
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| ProviderError::Malformed {
                provider: NAME,
                detail: "the work has no title".into(),
            })?;
        Ok(Work {
            title,
            doi: strip("https://doi.org/", wire.doi),
            year: wire.publication_year,
            venue: wire
                .primary_location
                .and_then(|l| l.source)
                .and_then(|s| s.display_name),
            abstract_text: wire.abstract_inverted_index.and_then(rebuild_abstract),
            authors: wire
                .authorships
                .into_iter()
                .filter_map(|a| {
                    let name = a.author.display_name?;
                    let affiliation = a
                        .institutions
                        .into_iter()
                        .find_map(|i| i.display_name)
                        .or_else(|| a.raw_affiliation_strings.into_iter().next());
                    Some(WorkAuthor {
                        name,
                        affiliation,
                        orcid: strip("https://orcid.org/", a.author.orcid),
                    })
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::rebuild_abstract;

    #[test]
    fn dois_are_encoded_for_the_path() {
        assert_eq!(
            super::encode_doi("10.1002/(sici)1097-4571#x?y"),
            "10.1002/(sici)1097-4571%23x%3Fy"
        );
        assert_eq!(super::encode_doi("10.1/é"), "10.1/%C3%A9");
    }

    #[test]
    fn inverted_abstracts_are_rebuilt_in_order() {
        let mut idx = std::collections::BTreeMap::new();
        idx.insert("world".to_string(), vec![1]);
        idx.insert("hello".to_string(), vec![0, 2]);
        assert_eq!(rebuild_abstract(idx).unwrap(), "hello world hello");
    }
}
