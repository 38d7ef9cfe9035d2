//! `[payments]`, `[stripe]`, `[[plans]]`, `[tax]` and `[invoices]`.

use serde::{Deserialize, Serialize};

use super::Secret;
use crate::domain::availability::check_currency;
use crate::domain::money::RefundTier;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PaymentsMode {
    /// Every session is free; nothing about payments shows.
    Off,
    Stripe,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentsConfig {
    /// `off` (the default: every session is free) or `stripe`.
    pub mode: PaymentsMode,
    /// The currency of plans and of new researchers' prices (ISO 4217).
    #[serde(alias = "default_currency")]
    pub currency: String,
    /// Refunds for a cancellation after accept, by notice given: the most
    /// generous tier met applies; less notice than every tier refunds 0 %.
    pub refund_tiers: Vec<RefundTier>,
    /// The platform's share of each captured payment, in percent.
    pub platform_fee_percent: i64,
    /// A subscription whose period ended without renewal is marked expired
    /// after this many days (its benefits stop at the period's end).
    pub subscription_grace_days: i64,
    /// How long an unpaid priced request holds its slot: unpaid by then,
    /// it expires (`payment_not_completed`) and the slot is free again.
    pub payment_window_minutes: i64,
    /// How many unpaid priced requests a reader may have at once.
    pub max_unpaid_requests: i64,
    /// How long a card hold is trusted: the card networks drop an
    /// uncaptured authorisation after about 7 days, so a priced request's
    /// answer deadline is at most this long after the hold (6.5 days).
    pub authorization_validity_hours: i64,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            mode: PaymentsMode::Off,
            currency: "EUR".into(),
            refund_tiers: vec![
                RefundTier {
                    hours_before: 48,
                    refund_percent: 100,
                },
                RefundTier {
                    hours_before: 24,
                    refund_percent: 50,
                },
            ],
            platform_fee_percent: 0,
            subscription_grace_days: 3,
            payment_window_minutes: 15,
            max_unpaid_requests: 3,
            authorization_validity_hours: 156,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StripeConfig {
    /// `sk_live_…` or `sk_test_…` (the seed's `STRIPE_SECRET_KEY` works too).
    pub secret_key: Secret,
    /// `pk_…`, handed to browsers that use Stripe.js.
    pub publishable_key: String,
    /// `whsec_…`, from the webhook endpoint in the Stripe dashboard.
    pub webhook_secret: Secret,
    /// Where the API is; point it at a local fake in tests.
    pub api_base_url: String,
    /// How old a webhook's signature time may be.
    pub webhook_tolerance_secs: i64,
    /// If not empty, only these addresses or networks may call the webhook.
    pub webhook_allowed_ips: Vec<String>,
    pub timeout_secs: u64,
    /// Retries on 429 and 5xx (with the same idempotency key).
    pub max_retries: u32,
}

impl Default for StripeConfig {
    fn default() -> Self {
        Self {
            secret_key: Secret::default(),
            publishable_key: String::new(),
            webhook_secret: Secret::default(),
            api_base_url: "https://api.stripe.com".into(),
            webhook_tolerance_secs: 300,
            webhook_allowed_ips: Vec::new(),
            timeout_secs: 20,
            max_retries: 2,
        }
    }
}

/// A subscription plan readers can buy.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    /// Stable id used by the API, e.g. `monthly`.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The recurring Price in Stripe (`price_…`).
    pub stripe_price_id: String,
    /// `month` or `year`.
    pub interval: String,
    /// The price per interval in minor units (`amount` works too).
    #[serde(alias = "amount")]
    pub amount_minor: i64,
    pub currency: String,
    /// Discount on every session, in percent.
    #[serde(default)]
    pub discount_percent: i64,
    /// Sessions per period that cost nothing.
    #[serde(default)]
    pub included_sessions: i64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TaxMode {
    None,
    Table,
}

/// A tax rate for a country (and optionally a region within it).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TaxRateConfig {
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
    /// e.g. `CA-QC`'s `QC`; a regional rate wins over the country's.
    #[serde(default)]
    pub region: String,
    pub name: String,
    /// 1 % = 100.
    pub basis_points: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaxConfig {
    /// `none` or `table` (rates below, by the buyer's billing country).
    pub mode: TaxMode,
    /// Whether researchers' prices and plan amounts already include tax.
    pub prices_include_tax: bool,
    pub rates: Vec<TaxRateConfig>,
}

impl Default for TaxConfig {
    fn default() -> Self {
        Self {
            mode: TaxMode::None,
            prices_include_tax: false,
            rates: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct InvoicesConfig {
    /// The seller on invoices; empty means `[institution] name`.
    pub seller_name: String,
    pub seller_address: String,
    pub seller_tax_id: String,
    /// Invoice numbers read `<prefix>-<year>-<000001>`.
    pub number_prefix: String,
}

impl Default for InvoicesConfig {
    fn default() -> Self {
        Self {
            seller_name: String::new(),
            seller_address: String::new(),
            seller_tax_id: String::new(),
            number_prefix: "INV".into(),
        }
    }
}

/// Checks the payment sections together.
pub fn validate(
    p: &PaymentsConfig,
    s: &StripeConfig,
    plans: &[PlanConfig],
    tax: &TaxConfig,
    invoices: &InvoicesConfig,
) -> Result<(), String> {
    check_currency(&p.currency).map_err(|m| format!("payments.currency: {m}"))?;
    if p.mode == PaymentsMode::Stripe && (!s.secret_key.is_set() || !s.webhook_secret.is_set()) {
        return Err(
            "payments.mode = \"stripe\" needs [stripe] secret_key and webhook_secret".into(),
        );
    }
    if p.refund_tiers
        .iter()
        .any(|t| t.hours_before < 0 || !(0..=100).contains(&t.refund_percent))
    {
        return Err("payments.refund_tiers: hours_before >= 0 and refund_percent 0 to 100".into());
    }
    if !(0..=100).contains(&p.platform_fee_percent)
        || !(0..=90).contains(&p.subscription_grace_days)
    {
        return Err(
            "payments.platform_fee_percent must be 0 to 100 and subscription_grace_days 0 to 90"
                .into(),
        );
    }
    if !(1..=1440).contains(&p.payment_window_minutes) {
        return Err("payments.payment_window_minutes must be 1 to 1440".into());
    }
    if !(1..=10_000).contains(&p.max_unpaid_requests) {
        return Err("payments.max_unpaid_requests must be 1 to 10000".into());
    }
    if !(1..=168).contains(&p.authorization_validity_hours) {
        return Err(
            "payments.authorization_validity_hours must be 1 to 168 (card networks drop a hold after about 7 days)"
                .into(),
        );
    }
    if url::Url::parse(&s.api_base_url).is_err() || s.timeout_secs == 0 {
        return Err("stripe.api_base_url must be a URL and stripe.timeout_secs > 0".into());
    }
    if !(1..=3600).contains(&s.webhook_tolerance_secs) {
        return Err("stripe.webhook_tolerance_secs must be 1 to 3600".into());
    }
    super::ip_nets("stripe.webhook_allowed_ips", &s.webhook_allowed_ips)?;
    let mut ids = std::collections::BTreeSet::new();
    for plan in plans {
        let bad = |m: &str| Err(format!("plans `{}`: {m}", plan.id));
        if plan.id.trim().is_empty() || !ids.insert(plan.id.clone()) {
            return Err("plans: every plan needs a unique id".into());
        }
        if plan.interval != "month" && plan.interval != "year" {
            return bad("interval must be month or year");
        }
        if plan.amount_minor < 0
            || !(0..=100).contains(&plan.discount_percent)
            || plan.included_sessions < 0
        {
            return bad(
                "amount_minor and included_sessions must be >= 0, discount_percent 0 to 100",
            );
        }
        if plan.stripe_price_id.trim().is_empty() {
            return bad("stripe_price_id is required");
        }
        check_currency(&plan.currency).map_err(|m| format!("plans `{}`.currency: {m}", plan.id))?;
    }
    for r in &tax.rates {
        if r.country.len() != 2 || !r.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "tax.rates: `{}` is not a two-letter country code",
                r.country
            ));
        }
        if !(0..=10_000).contains(&r.basis_points) || r.name.trim().is_empty() {
            return Err(format!(
                "tax.rates `{}`: basis_points 0 to 10000 and a name",
                r.country
            ));
        }
    }
    if invoices.number_prefix.trim().is_empty() || invoices.number_prefix.len() > 16 {
        return Err("invoices.number_prefix must be 1 to 16 characters".into());
    }
    Ok(())
}

/// What is allowed but probably not meant, as warnings for `config
/// check`: with Stripe, a default request lifetime longer than a card hold
/// is trusted (such requests' answer deadline is capped at the hold's
/// validity).
pub fn warnings(p: &PaymentsConfig, sessions: &super::SessionsConfig) -> Vec<String> {
    let (ttl, valid) = (
        sessions.default_request_ttl_hours,
        p.authorization_validity_hours,
    );
    if p.mode != PaymentsMode::Stripe || ttl <= valid {
        return Vec::new();
    }
    vec![format!(
        "sessions.default_request_ttl_hours = {ttl} is longer than payments.authorization_validity_hours = {valid}: \
         a card hold is trusted for {valid} hours only, so a priced request's answer deadline is capped at the \
         hold's validity ({valid} hours after the card is held) and researchers get less time than {ttl} hours \
         to answer it. Lower default_request_ttl_hours to {valid} or less to make the setting say what happens."
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn check(c: &Config) -> Result<(), String> {
        validate(&c.payments, &c.stripe, &c.plans, &c.tax, &c.invoices)
    }

    fn plan(id: &str) -> PlanConfig {
        PlanConfig {
            id: id.into(),
            name: "Monthly".into(),
            description: String::new(),
            stripe_price_id: "price_1".into(),
            interval: "month".into(),
            amount_minor: 1500,
            currency: "EUR".into(),
            discount_percent: 20,
            included_sessions: 1,
        }
    }

    #[test]
    fn stripe_mode_needs_its_keys() {
        let mut c = Config::default();
        c.payments.mode = PaymentsMode::Stripe;
        assert!(check(&c).unwrap_err().contains("secret_key"));
        c.stripe.secret_key = Secret::new("sk_test_1");
        c.stripe.webhook_secret = Secret::new("whsec_1");
        check(&c).unwrap();
        // Checkout needs an address to send readers back to.
        assert!(c.validate().unwrap_err().to_string().contains("public_url"));
        c.server.public_url = "https://colloquy.uni.example".into();
        c.validate().unwrap();
    }

    #[test]
    fn a_request_lifetime_longer_than_a_hold_is_a_warning_with_stripe_only() {
        let mut c = Config::default();
        c.sessions.default_request_ttl_hours = 200;
        assert!(warnings(&c.payments, &c.sessions).is_empty());
        c.payments.mode = PaymentsMode::Stripe;
        let w = warnings(&c.payments, &c.sessions);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("= 200") && w[0].contains("capped"), "{w:?}");
        c.sessions.default_request_ttl_hours = c.payments.authorization_validity_hours;
        assert!(warnings(&c.payments, &c.sessions).is_empty());
    }

    #[test]
    fn tiers_plans_and_rates_are_checked() {
        let mut c = Config::default();
        c.payments.refund_tiers[0].refund_percent = 120;
        assert!(check(&c).is_err());
        let mut c = Config {
            plans: vec![plan("monthly"), plan("monthly")],
            ..Default::default()
        };
        assert!(check(&c).unwrap_err().contains("unique"));
        c.plans = vec![plan("monthly")];
        c.plans[0].interval = "week".into();
        assert!(check(&c).unwrap_err().contains("interval"));
        let mut c = Config::default();
        c.tax.rates = vec![TaxRateConfig {
            country: "Germany".into(),
            region: String::new(),
            name: "VAT".into(),
            basis_points: 1900,
        }];
        assert!(check(&c).unwrap_err().contains("country"));
        let mut c = Config::default();
        c.stripe.webhook_allowed_ips = vec!["not-an-ip".into()];
        assert!(check(&c).is_err());
    }
}
