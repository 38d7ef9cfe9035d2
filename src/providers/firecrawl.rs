//! Firecrawl: find and scrape a researcher's profile page, with JSON
//! extraction of the bio, publications and an e-mail shown on the page.
//! A known homepage is scraped (`POST /v1/scrape`); otherwise the profile
//! is found and scraped in one call (`POST /v1/search` with scrape options).

use serde::Deserialize;
use serde_json::{json, Value};

use super::transport::{parse, RetryPolicy, Transport};
use super::ProviderError;
use crate::config::PaidProviderConfig;

const NAME: &str = "Firecrawl";

pub struct FirecrawlClient {
    transport: Transport,
    base_url: String,
    api_key: String,
}

/// What a profile page says about the researcher.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProfilePage {
    pub url: Option<String>,
    pub bio: Option<String>,
    pub publications: Vec<String>,
    pub email: Option<String>,
}

#[derive(Deserialize)]
struct WireScrape {
    #[serde(default)]
    success: bool,
    data: Option<WireDoc>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct WireSearch {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    data: Vec<WireDoc>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct WireDoc {
    url: Option<String>,
    json: Option<Value>,
    metadata: Option<WireMeta>,
}

#[derive(Deserialize)]
struct WireMeta {
    #[serde(rename = "sourceURL")]
    source_url: Option<String>,
    #[serde(rename = "statusCode")]
    status_code: Option<u16>,
}

fn extraction() -> Value {
    json!({
        "schema": {
            "type": "object",
            "properties": {
                "bio": {"type": "string", "description": "A short professional biography of the researcher"},
                "publications": {"type": "array", "items": {"type": "string"}, "description": "Titles of the researcher's publications listed on the page"},
                "email": {"type": "string", "description": "The researcher's e-mail address if the page shows one"}
            }
        },
        "prompt": "Extract the researcher's biography, their listed publications, and their e-mail address if shown."
    })
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn page_from(doc: WireDoc) -> Result<ProfilePage, ProviderError> {
    if doc
        .metadata
        .as_ref()
        .and_then(|m| m.status_code)
        .is_some_and(|c| c >= 400)
    {
        return Err(ProviderError::NotFound { provider: NAME });
    }
    let url = doc
        .url
        .or_else(|| doc.metadata.and_then(|m| m.source_url))
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    let Some(json) = doc.json else {
        return Err(ProviderError::Malformed {
            provider: NAME,
            detail: "the answer has no extracted JSON".into(),
        });
    };
    let publications = json
        .get("publications")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|p| text(Some(p))).take(50).collect())
        .unwrap_or_default();
    Ok(ProfilePage {
        url,
        bio: text(json.get("bio")),
        publications,
        email: text(json.get("email")).filter(|e| e.contains('@')),
    })
}

impl FirecrawlClient {
    pub fn new<B>(cfg: &PaidProviderConfig<B>, retry: RetryPolicy) -> anyhow::Result<Self> {
        Ok(Self {
            transport: Transport::new(NAME, cfg.into(), retry, &[402])?,
            base_url: cfg.base_url_or_default("firecrawl"),
            api_key: cfg.api_key.expose().to_string(),
        })
    }

    async fn post(&self, path: &str, body: &Value) -> Result<bytes::Bytes, ProviderError> {
        let url = format!("{}{}", self.base_url, path);
        self.transport
            .send(|c| c.post(&url).bearer_auth(&self.api_key).json(body))
            .await
            .map(|a| a.body)
            .map_err(|(e, _)| e)
    }

    /// Scrapes a known profile page.
    pub async fn scrape_profile(&self, url: &str) -> Result<ProfilePage, ProviderError> {
        let body = json!({"url": url, "formats": ["json"], "onlyMainContent": true, "jsonOptions": extraction()});
        let wire: WireScrape = parse(NAME, &self.post("/v1/scrape", &body).await?)?;
        match (wire.success, wire.data) {
            (true, Some(doc)) => page_from(doc),
            _ => Err(ProviderError::Malformed {
                provider: NAME,
                detail: wire.error.unwrap_or_else(|| "success: false".into()),
            }),
        }
    }

    /// Finds the researcher's profile page by name and affiliation and
    /// scrapes it in the same call; `None` when the search finds nothing.
    pub async fn find_profile(
        &self,
        name: &str,
        affiliation: &str,
    ) -> Result<Option<ProfilePage>, ProviderError> {
        let query = format!("{name} {affiliation} profile").trim().to_string();
        let body = json!({
            "query": query,
            "limit": 1,
            "ignoreInvalidURLs": true,
            "scrapeOptions": {"formats": ["json"], "onlyMainContent": true, "jsonOptions": extraction()}
        });
        let wire: WireSearch = parse(NAME, &self.post("/v1/search", &body).await?)?;
        if !wire.success {
            return Err(ProviderError::Malformed {
                provider: NAME,
                detail: wire.error.unwrap_or_else(|| "success: false".into()),
            });
        }
        match wire.data.into_iter().next() {
            Some(doc) => page_from(doc).map(Some),
            None => Ok(None),
        }
    }
}
