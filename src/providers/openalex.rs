//! OpenAlex (free scholarly metadata): works by DOI for paper import, and
//! authors with their metrics, topics and recent works for collection.

use serde::Deserialize;

use super::transport::{parse, RetryPolicy, Transport};
use super::ProviderError;
use crate::config::OpenAlexConfig;

const NAME: &str = "OpenAlex";

pub struct OpenAlexClient {
    transport: Transport,
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

/// An author as Colloquy needs it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Author {
    /// Short id, e.g. `A5023888391`.
    pub id: String,
    pub name: String,
    pub orcid: Option<String>,
    pub institution: Option<String>,
    pub works_count: Option<i64>,
    pub cited_by_count: Option<i64>,
    pub h_index: Option<i64>,
    pub topics: Vec<String>,
    pub homepage: Option<String>,
}

/// A recent work of an author.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecentWork {
    pub title: String,
    pub year: Option<i32>,
    pub doi: Option<String>,
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
    source: Option<WireName>,
}

#[derive(Deserialize)]
struct WireName {
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct WireAuthorship {
    author: WireWorkAuthor,
    #[serde(default)]
    institutions: Vec<WireName>,
    #[serde(default)]
    raw_affiliation_strings: Vec<String>,
}

#[derive(Deserialize)]
struct WireWorkAuthor {
    display_name: Option<String>,
    orcid: Option<String>,
}

#[derive(Deserialize)]
struct WireList<T> {
    #[serde(default = "Vec::new")]
    results: Vec<T>,
}

#[derive(Deserialize)]
struct WireAuthor {
    id: String,
    display_name: Option<String>,
    orcid: Option<String>,
    works_count: Option<i64>,
    cited_by_count: Option<i64>,
    summary_stats: Option<WireStats>,
    #[serde(default)]
    last_known_institutions: Vec<WireName>,
    #[serde(default)]
    topics: Vec<WireName>,
    homepage_url: Option<String>,
}

#[derive(Deserialize)]
struct WireStats {
    h_index: Option<i64>,
}

fn strip(prefix: &str, s: Option<String>) -> Option<String> {
    s.map(|v| v.strip_prefix(prefix).map(str::to_string).unwrap_or(v))
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

impl From<WireAuthor> for Author {
    fn from(a: WireAuthor) -> Self {
        Self {
            id: strip("https://openalex.org/", Some(a.id)).unwrap_or_default(),
            name: a.display_name.unwrap_or_default(),
            orcid: strip("https://orcid.org/", a.orcid),
            institution: a
                .last_known_institutions
                .into_iter()
                .find_map(|i| i.display_name),
            works_count: a.works_count,
            cited_by_count: a.cited_by_count,
            h_index: a.summary_stats.and_then(|s| s.h_index),
            topics: a
                .topics
                .into_iter()
                .filter_map(|t| t.display_name)
                .take(8)
                .collect(),
            homepage: a.homepage_url.filter(|h| h.starts_with("http")),
        }
    }
}

impl OpenAlexClient {
    pub fn new(cfg: &OpenAlexConfig, retry: RetryPolicy) -> anyhow::Result<Self> {
        Ok(Self {
            transport: Transport::new(NAME, cfg.into(), retry, &[])?,
            base_url: cfg.base_url.trim_end_matches('/').to_string(),
            api_key: cfg
                .api_key
                .is_set()
                .then(|| cfg.api_key.expose().to_string()),
            mailto: (!cfg.mailto.is_empty()).then(|| cfg.mailto.clone()),
        })
    }

    async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<(bytes::Bytes, u32), ProviderError> {
        let url = format!("{}{}", self.base_url, path);
        let mut params: Vec<(&str, &str)> = query.to_vec();
        if let Some(k) = &self.api_key {
            params.push(("api_key", k));
        }
        if let Some(m) = &self.mailto {
            params.push(("mailto", m));
        }
        match self.transport.send(|c| c.get(&url).query(&params)).await {
            Ok(a) => Ok((a.body, a.attempts)),
            Err((e, _)) => Err(e),
        }
    }

    /// Fetches one work by its bare DOI (`10.x/y`).
    pub async fn work_by_doi(&self, doi: &str) -> Result<Work, ProviderError> {
        let (body, _) = self
            .get(&format!("/works/doi:{}", encode_doi(doi)), &[])
            .await?;
        let wire: WireWork = parse(NAME, &body)?;
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

    /// Authors matching a name, best matches first (OpenAlex's relevance).
    pub async fn search_authors(&self, name: &str) -> Result<Vec<Author>, ProviderError> {
        let (body, _) = self
            .get("/authors", &[("search", name), ("per-page", "10")])
            .await?;
        let list: WireList<WireAuthor> = parse(NAME, &body)?;
        Ok(list.results.into_iter().map(Author::from).collect())
    }

    /// One author by OpenAlex id (`A…`) or by `orcid:0000-…`.
    pub async fn author(&self, key: &str) -> Result<Author, ProviderError> {
        let (body, _) = self
            .get(&format!("/authors/{}", encode_doi(key)), &[])
            .await?;
        Ok(parse::<WireAuthor>(NAME, &body)?.into())
    }

    /// An author's most recent works.
    pub async fn recent_works(&self, author_id: &str) -> Result<Vec<RecentWork>, ProviderError> {
        let filter = format!("author.id:{author_id}");
        let (body, _) = self
            .get(
                "/works",
                &[
                    ("filter", &filter),
                    ("sort", "publication_date:desc"),
                    ("per-page", "5"),
                ],
            )
            .await?;
        let list: WireList<WireWork> = parse(NAME, &body)?;
        Ok(list
            .results
            .into_iter()
            .filter_map(|w| {
                Some(RecentWork {
                    title: w.display_name.or(w.title)?,
                    year: w.publication_year,
                    doi: strip("https://doi.org/", w.doi),
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::{encode_doi, rebuild_abstract};

    #[test]
    fn dois_are_encoded_for_the_path() {
        assert_eq!(
            encode_doi("10.1002/(sici)1097-4571#x?y"),
            "10.1002/(sici)1097-4571%23x%3Fy"
        );
        assert_eq!(encode_doi("10.1/é"), "10.1/%C3%A9");
    }

    #[test]
    fn inverted_abstracts_are_rebuilt_in_order() {
        let mut idx = std::collections::BTreeMap::new();
        idx.insert("world".to_string(), vec![1]);
        idx.insert("hello".to_string(), vec![0, 2]);
        assert_eq!(rebuild_abstract(idx).unwrap(), "hello world hello");
    }

    #[test]
    fn the_contract_author_parses() {
        let raw = include_str!("../../tests/fixtures/openalex/author_get.json");
        let a: super::Author = serde_json::from_str::<super::WireAuthor>(raw)
            .unwrap()
            .into();
        assert_eq!(a.id, "A5023888391");
        assert_eq!(a.orcid.as_deref(), Some("0000-0001-6187-6610"));
        assert_eq!(a.h_index, Some(45));
        assert_eq!(a.institution.as_deref(), Some("OurResearch"));
    }
}
