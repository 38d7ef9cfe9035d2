//! Zoom: server-to-server OAuth and scheduled meetings (create on accept,
//! update on reschedule, delete on cancel). The access token is cached until
//! shortly before it expires and fetched again once when Zoom answers 401.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::transport::{self, Limits, RetryPolicy, Transport};
use super::ProviderError;
use crate::config::{Secret, ZoomConfig};

const NAME: &str = "zoom";

/// What Colloquy asks Zoom to schedule.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingRequest {
    pub topic: String,
    /// 2: a scheduled meeting.
    #[serde(rename = "type")]
    pub kind: u8,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub start_time: String,
    pub duration: i64,
    pub timezone: String,
    pub agenda: String,
    pub settings: MeetingSettings,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeetingSettings {
    pub join_before_host: bool,
    pub waiting_room: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct MeetingWire {
    id: i64,
    join_url: String,
    #[serde(default)]
    password: Option<String>,
}

/// A created meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub id: String,
    pub join_url: String,
    pub password: Option<String>,
}

#[derive(Deserialize)]
struct TokenWire {
    access_token: String,
    expires_in: u64,
}

struct CachedToken {
    value: String,
    until: Instant,
}

pub struct ZoomClient {
    transport: Transport,
    api_base: String,
    oauth_url: String,
    account_id: String,
    client_id: String,
    client_secret: Secret,
    /// A ready token (`ZOOM_API_KEY`) when no OAuth app is configured.
    static_token: Option<Secret>,
    user_id: String,
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

impl ZoomClient {
    pub fn new(c: &ZoomConfig) -> anyhow::Result<Self> {
        let limits = Limits {
            timeout_secs: c.timeout_secs,
            max_concurrency: 4,
            requests_per_minute: 1200,
        };
        let retry = RetryPolicy::service(c.max_retries);
        Ok(Self {
            transport: Transport::new(NAME, limits, retry, &[])?,
            api_base: c.api_base_url.trim_end_matches('/').to_string(),
            oauth_url: c.oauth_url.clone(),
            account_id: c.account_id.trim().to_string(),
            client_id: c.client_id.trim().to_string(),
            client_secret: c.client_secret.clone(),
            static_token: (!c.has_oauth() && c.api_key.is_set()).then(|| c.api_key.clone()),
            user_id: c.user_id.clone(),
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// A valid access token; `stale` is one Zoom just refused, which is
    /// replaced (once, even when several calls saw it fail together).
    async fn token(&self, stale: Option<&str>) -> Result<String, ProviderError> {
        if let Some(t) = &self.static_token {
            return Ok(t.expose().to_string());
        }
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref() {
            let refused = stale.is_some_and(|s| s == t.value);
            if !refused && t.until > Instant::now() {
                return Ok(t.value.clone());
            }
        }
        let basic = STANDARD.encode(format!(
            "{}:{}",
            self.client_id,
            self.client_secret.expose()
        ));
        let answer = self
            .transport
            .send(|http| {
                http.post(&self.oauth_url)
                    .query(&[
                        ("grant_type", "account_credentials"),
                        ("account_id", self.account_id.as_str()),
                    ])
                    .header("Authorization", format!("Basic {basic}"))
            })
            .await
            .map_err(|(e, _)| e)?;
        let wire: TokenWire = transport::parse(NAME, &answer.body)?;
        // Renew a minute early so a token never expires mid-request.
        let life = Duration::from_secs(wire.expires_in.saturating_sub(60).max(1));
        *cached = Some(CachedToken {
            value: wire.access_token.clone(),
            until: Instant::now() + life,
        });
        Ok(wire.access_token)
    }

    /// One API call with the bearer token, fetching a new token once on 401.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&MeetingRequest>,
    ) -> Result<transport::Answer, ProviderError> {
        let url = format!("{}{path}", self.api_base);
        let mut token = self.token(None).await?;
        for attempt in 0..2 {
            let outcome = self
                .transport
                .send(|http| {
                    let req = http.request(method.clone(), &url).bearer_auth(&token);
                    match body {
                        Some(b) => req.json(b),
                        None => req,
                    }
                })
                .await;
            match outcome {
                Ok(a) => return Ok(a),
                Err((ProviderError::BadKey { .. }, _))
                    if attempt == 0 && self.static_token.is_none() =>
                {
                    tracing::info!(provider = NAME, "access token refused; fetching a new one");
                    token = self.token(Some(&token)).await?;
                }
                Err((e, _)) => return Err(e),
            }
        }
        Err(ProviderError::BadKey { provider: NAME })
    }

    pub async fn create_meeting(&self, m: &MeetingRequest) -> Result<Meeting, ProviderError> {
        let path = format!("/users/{}/meetings", self.user_id);
        let answer = self.call(Method::POST, &path, Some(m)).await?;
        let wire: MeetingWire = transport::parse(NAME, &answer.body)?;
        Ok(Meeting {
            id: wire.id.to_string(),
            join_url: wire.join_url,
            password: wire.password.filter(|p| !p.is_empty()),
        })
    }

    pub async fn update_meeting(&self, id: &str, m: &MeetingRequest) -> Result<(), ProviderError> {
        self.call(Method::PATCH, &format!("/meetings/{id}"), Some(m))
            .await
            .map(|_| ())
    }

    /// Deletes a meeting; one Zoom no longer knows counts as deleted.
    pub async fn delete_meeting(&self, id: &str) -> Result<(), ProviderError> {
        match self
            .call(Method::DELETE, &format!("/meetings/{id}"), None)
            .await
        {
            Ok(_) | Err(ProviderError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
