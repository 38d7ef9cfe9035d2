//! Tavily web search, for a researcher's awards, fellowships and grants.

use serde::Deserialize;
use serde_json::json;

use super::transport::{parse, RetryPolicy, Transport};
use super::ProviderError;
use crate::config::PaidProviderConfig;

const NAME: &str = "Tavily";

pub struct TavilyClient {
    transport: Transport,
    base_url: String,
    api_key: String,
}

/// One achievement: a sentence and where it was found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Achievement {
    pub text: String,
    pub source_url: String,
}

#[derive(Deserialize)]
struct WireSearch {
    #[serde(default)]
    results: Vec<WireResult>,
}

#[derive(Deserialize)]
struct WireResult {
    title: Option<String>,
    url: String,
    content: Option<String>,
}

fn clip(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

impl TavilyClient {
    pub fn new<B>(cfg: &PaidProviderConfig<B>, retry: RetryPolicy) -> anyhow::Result<Self> {
        Ok(Self {
            // 432: plan limit, 433: pay-as-you-go limit.
            transport: Transport::new(NAME, cfg.into(), retry, &[402, 432, 433])?,
            base_url: cfg.base_url_or_default("tavily"),
            api_key: cfg.api_key.expose().to_string(),
        })
    }

    /// Searches for awards, fellowships, grants and prizes of a researcher.
    /// Results that do not mention the researcher's family name are dropped.
    pub async fn achievements(
        &self,
        name: &str,
        affiliation: &str,
    ) -> Result<Vec<Achievement>, ProviderError> {
        let query = format!("\"{name}\" {affiliation} award OR fellowship OR grant OR prize")
            .trim()
            .to_string();
        let body = json!({"query": query, "search_depth": "basic", "max_results": 8, "include_answer": false, "topic": "general"});
        let url = format!("{}/search", self.base_url);
        let answer = self
            .transport
            .send(|c| c.post(&url).bearer_auth(&self.api_key).json(&body))
            .await
            .map_err(|(e, _)| e)?;
        let wire: WireSearch = parse(NAME, &answer.body)?;
        let family = name
            .split_whitespace()
            .last()
            .unwrap_or(name)
            .to_lowercase();
        Ok(wire
            .results
            .into_iter()
            .filter(|r| r.url.starts_with("http"))
            .filter_map(|r| {
                let title = r.title.unwrap_or_default();
                let content = r.content.unwrap_or_default();
                let mentions = title.to_lowercase().contains(&family)
                    || content.to_lowercase().contains(&family);
                let text = if content.is_empty() {
                    title.clone()
                } else {
                    format!("{title}: {content}")
                };
                (mentions && !text.trim().is_empty()).then(|| Achievement {
                    text: clip(&text, 300),
                    source_url: r.url,
                })
            })
            .collect())
    }
}
