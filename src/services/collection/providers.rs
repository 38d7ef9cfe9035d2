//! The collection providers as the admin page shows them (configured,
//! available, this month's calls and credits), and re-enabling one.

use std::net::IpAddr;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::calls::{self, Provider};
use crate::db::repos::{audit, provider_calls};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// A provider's state, for the admin page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderView {
    pub name: String,
    /// Paid providers need an API key; OpenAlex does not.
    pub configured: bool,
    pub available: bool,
    pub unavailable_reason: Option<String>,
    pub unavailable_since: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    /// Paid calls this calendar month (UTC).
    pub credits_used_this_month: i64,
    /// 0 means no limit.
    pub monthly_credit_budget: u32,
    /// Calls this month by outcome (`ok`, `cached`, `error`, `not_found`).
    pub calls_this_month: std::collections::BTreeMap<String, i64>,
}

pub async fn providers(state: &AppState, who: &Principal) -> AppResult<Vec<ProviderView>> {
    who.require_admin()?;
    let since = calls::month_start(state.now());
    let mut out = Vec::new();
    for p in Provider::ALL {
        let name = p.as_str();
        let (status, used, counts) = state
            .db
            .read(move |c| {
                Ok((
                    provider_calls::status(c, name)?,
                    provider_calls::paid_since(c, name, since)?,
                    provider_calls::counts_since(c, name, since)?,
                ))
            })
            .await?;
        let same_key = status.key_fingerprint.as_deref() == Some(p.key_fingerprint(state).as_str());
        let unavailable = status.unavailable_reason.is_some() && same_key;
        let budget = p.monthly_budget(state);
        let spent = budget > 0 && used >= i64::from(budget);
        out.push(ProviderView {
            name: name.into(),
            configured: p.configured(state),
            available: p.configured(state) && !unavailable && !spent,
            unavailable_reason: if unavailable {
                status.unavailable_reason
            } else {
                None
            },
            unavailable_since: if unavailable {
                status.unavailable_since
            } else {
                None
            },
            last_error: status.last_error,
            last_error_at: status.last_error_at,
            credits_used_this_month: used,
            monthly_credit_budget: p.monthly_budget(state),
            calls_this_month: counts.into_iter().collect(),
        });
    }
    Ok(out)
}

/// Makes a provider marked unavailable usable again (admins).
pub async fn enable_provider(
    state: &AppState,
    who: &Principal,
    name: &str,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    who.require_admin()?;
    let provider = Provider::parse(name).ok_or(AppError::NotFound)?;
    let (keys, now, actor) = (state.keys.clone(), state.now(), who.user_id);
    let name = provider.as_str();
    state
        .db
        .write(move |tx| {
            provider_calls::clear_unavailable(tx, name)?;
            let ev = audit::NewEvent {
                actor: Some(actor),
                action: "provider.enabled",
                target: Some(format!("provider:{name}")),
                detail: json!({}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(())
        })
        .await
}
