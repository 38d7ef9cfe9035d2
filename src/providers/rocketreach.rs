//! RocketReach person lookup, for an e-mail when nothing else found one.
//! `GET /person/lookup` may answer `searching`; the caller polls
//! `GET /person/checkStatus` until the profile is complete.

use serde::Deserialize;

use super::transport::{parse, RetryPolicy, Transport};
use super::ProviderError;
use crate::config::PaidProviderConfig;

const NAME: &str = "RocketReach";

pub struct RocketReachClient {
    transport: Transport,
    base_url: String,
    api_key: String,
}

/// RocketReach's number for a person lookup (theirs, not a Colloquy row),
/// used to poll a lookup that is still searching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct LookupId(pub i64);

/// The state of a lookup and, once complete, the best professional e-mail.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lookup {
    pub id: LookupId,
    /// `complete`, `searching`, `progress`, `waiting`, `queued`, `failed`…
    pub status: String,
    pub email: Option<FoundEmail>,
}

impl Lookup {
    pub fn is_complete(&self) -> bool {
        self.status == "complete"
    }

    pub fn has_failed(&self) -> bool {
        matches!(self.status.as_str(), "failed" | "not queued")
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FoundEmail {
    pub address: String,
    /// The grade and SMTP validity, e.g. `A- (valid)`.
    pub quality: String,
}

#[derive(Deserialize)]
struct WireProfile {
    id: LookupId,
    status: String,
    #[serde(default)]
    emails: Vec<WireEmail>,
    recommended_professional_email: Option<String>,
}

#[derive(Deserialize)]
struct WireEmail {
    email: String,
    smtp_valid: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    grade: Option<String>,
}

/// Lower is better: grade first (A, A-, B, …), then SMTP validity.
fn rank(e: &WireEmail) -> (u8, u8) {
    let grade = match e.grade.as_deref().map(str::trim) {
        Some("A") => 0,
        Some("A-") => 1,
        Some("B") => 2,
        Some("B-") => 3,
        Some("C") => 4,
        Some(_) => 6,
        None => 5,
    };
    let validity = match e.smtp_valid.as_deref() {
        Some("valid") => 0,
        Some("accept-all") => 1,
        Some("unknown") | None => 2,
        Some(_) => 3,
    };
    (grade, validity)
}

fn best_email(p: &WireProfile) -> Option<FoundEmail> {
    let best = p
        .emails
        .iter()
        .filter(|e| e.kind.as_deref().unwrap_or("professional") == "professional")
        .filter(|e| e.smtp_valid.as_deref() != Some("invalid") && e.email.contains('@'))
        .min_by_key(|e| rank(e));
    match best {
        Some(e) => {
            let grade = e.grade.clone().unwrap_or_else(|| "ungraded".into());
            let validity = e.smtp_valid.clone().unwrap_or_else(|| "unchecked".into());
            Some(FoundEmail {
                address: e.email.clone(),
                quality: format!("{grade} ({validity})"),
            })
        }
        None => p
            .recommended_professional_email
            .clone()
            .filter(|e| e.contains('@'))
            .map(|address| FoundEmail {
                address,
                quality: "recommended (unchecked)".into(),
            }),
    }
}

impl From<WireProfile> for Lookup {
    fn from(p: WireProfile) -> Self {
        let email = if p.status == "complete" {
            best_email(&p)
        } else {
            None
        };
        Self {
            id: p.id,
            status: p.status,
            email,
        }
    }
}

impl RocketReachClient {
    pub fn new<B>(cfg: &PaidProviderConfig<B>, retry: RetryPolicy) -> anyhow::Result<Self> {
        Ok(Self {
            transport: Transport::new(NAME, cfg.into(), retry, &[402])?,
            base_url: cfg.base_url_or_default("rocketreach"),
            api_key: cfg.api_key.expose().to_string(),
        })
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<bytes::Bytes, ProviderError> {
        let url = format!("{}{}", self.base_url, path);
        self.transport
            .send(|c| c.get(&url).header("Api-Key", &self.api_key).query(query))
            .await
            .map(|a| a.body)
            .map_err(|(e, _)| e)
    }

    /// Starts (or answers from RocketReach's cache) a lookup by name and employer.
    pub async fn lookup(&self, name: &str, employer: &str) -> Result<Lookup, ProviderError> {
        let mut query = vec![("name", name)];
        if !employer.is_empty() {
            query.push(("current_employer", employer));
        }
        let body = self.get("/person/lookup", &query).await?;
        Ok(parse::<WireProfile>(NAME, &body)?.into())
    }

    /// The current state of a lookup started earlier.
    pub async fn check_status(&self, id: LookupId) -> Result<Lookup, ProviderError> {
        let id = id.0.to_string();
        let body = self.get("/person/checkStatus", &[("ids", &id)]).await?;
        let list: Vec<WireProfile> = parse(NAME, &body)?;
        list.into_iter()
            .next()
            .map(Lookup::from)
            .ok_or_else(|| ProviderError::Malformed {
                provider: NAME,
                detail: "empty status list".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_professional_email_is_chosen() {
        let raw = include_str!("../../tests/fixtures/rocketreach/lookup_complete.json");
        let l: Lookup = serde_json::from_str::<WireProfile>(raw).unwrap().into();
        assert!(l.is_complete());
        let e = l.email.unwrap();
        assert_eq!(e.address, "marcb@salesforce.com");
        assert_eq!(e.quality, "A (valid)");
    }

    #[test]
    fn a_searching_lookup_has_no_email_yet() {
        let raw = include_str!("../../tests/fixtures/rocketreach/lookup_searching.json");
        let l: Lookup = serde_json::from_str::<WireProfile>(raw).unwrap().into();
        assert!(!l.is_complete() && l.email.is_none());
    }
}
