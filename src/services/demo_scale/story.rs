//! A planned session told up to now: the events that have happened (with
//! the names and actors `services::sessions` records), the status they
//! leave, and the money that moved (`services::payments` shapes: a hold
//! when the card is authorised, capture with the platform fee when the
//! researcher accepts, release on decline, expiry or an early cancel, a
//! refund by the policy tiers after accept or for an absent researcher).

use chrono::Duration;

use super::calendar::Planned;
use super::fates::{After, Fate};
use super::Time;
use crate::config::Config;
use crate::domain::money::{apply_tax, percent_of, refund_percent, share, Rate, RefundTier};
use crate::domain::{PaymentStatus, SessionStatus};
use crate::services::sessions::Party;

/// The instance's policies the stories follow.
pub struct Rules {
    pub grace: Duration,
    pub fee_percent: i64,
    pub tiers: Vec<RefundTier>,
    pub link_template: String,
}

impl Rules {
    pub fn from_config(config: &Config) -> Self {
        Self {
            grace: Duration::hours(config.sessions.completion_grace_hours),
            // An instance that takes no fee still gets one in its
            // benchmark set, so the fee columns are exercised.
            fee_percent: match config.payments.platform_fee_percent {
                0 => 10,
                n => n,
            },
            tiers: config.payments.refund_tiers.clone(),
            link_template: config.video.link_template.clone(),
        }
    }
}

/// The VAT researchers' prices get on top: 19 % on euro prices, 20 % on
/// pounds, none on dollars.
pub fn tax_rate(currency: &str) -> Option<Rate> {
    let (name, basis_points) = match currency {
        "EUR" => ("VAT", 1_900),
        "GBP" => ("VAT", 2_000),
        _ => return None,
    };
    Some(Rate {
        name: name.into(),
        basis_points,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    pub actor: &'static str,
    pub at: Time,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// authorization, capture, release or refund.
    pub kind: &'static str,
    pub amount: i64,
    pub tax: i64,
    pub fee: i64,
    pub at: Time,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Money {
    pub status: PaymentStatus,
    pub amount: i64,
    pub tax: i64,
    pub rate: Option<Rate>,
    /// The card was held (so a PaymentIntent exists).
    pub intent: bool,
    pub refunded: i64,
    pub updated: Time,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    pub status: SessionStatus,
    pub events: Vec<Event>,
    /// Accepted by now (the meeting link exists).
    pub accepted: bool,
    pub cancelled_by: Option<Party>,
    pub no_show: Option<Party>,
    pub updated: Time,
    pub money: Option<Money>,
}

/// Tells `p` up to `now`; `price` in minor units (0: free).
pub fn tell(p: &Planned, price: i64, currency: &str, rules: &Rules, now: Time) -> Story {
    let mut s = Story {
        status: SessionStatus::Requested,
        events: vec![event("requested", Party::Reader.as_str(), p.created)],
        accepted: false,
        cancelled_by: None,
        no_show: None,
        updated: p.created,
        money: None,
    };
    let mut money = (price > 0).then(|| hold(p, price, currency, now));
    match &p.fate {
        Fate::Declined(at) | Fate::Withdrawn(at) if *at <= now => {
            let (status, name, actor) = match p.fate {
                Fate::Declined(_) => (SessionStatus::Declined, "declined", Party::Researcher),
                _ => (SessionStatus::Cancelled, "cancelled", Party::Reader),
            };
            step(&mut s, status, name.into(), actor.as_str(), *at);
            if name == "cancelled" {
                s.cancelled_by = Some(Party::Reader);
            }
            release(money.as_mut(), *at);
        }
        Fate::Expired if p.expires <= now => {
            step(
                &mut s,
                SessionStatus::Expired,
                "expired".into(),
                "system",
                p.expires,
            );
            release(money.as_mut(), p.expires);
        }
        Fate::Accepted(at, after) if *at <= now => {
            s.accepted = true;
            step(
                &mut s,
                SessionStatus::Accepted,
                "accepted".into(),
                Party::Researcher.as_str(),
                *at,
            );
            capture(money.as_mut(), rules.fee_percent, *at);
            match after {
                After::Held if p.end() + rules.grace <= now => {
                    let at = p.end() + rules.grace;
                    step(
                        &mut s,
                        SessionStatus::Completed,
                        "completed".into(),
                        "system",
                        at,
                    );
                }
                After::Cancelled(at, party) if *at <= now => {
                    step(
                        &mut s,
                        SessionStatus::Cancelled,
                        "cancelled".into(),
                        party.as_str(),
                        *at,
                    );
                    s.cancelled_by = Some(*party);
                    let minutes_left = (p.start - *at).num_minutes();
                    refund(
                        money.as_mut(),
                        |gross| match party {
                            Party::Reader => {
                                percent_of(gross, refund_percent(&rules.tiers, minutes_left))
                            }
                            _ => gross,
                        },
                        *at,
                    );
                }
                After::NoShow(at, absent) if *at <= now => {
                    let name = format!("no_show_{}", absent.as_str());
                    step(
                        &mut s,
                        SessionStatus::NoShow,
                        name,
                        Party::Admin.as_str(),
                        *at,
                    );
                    s.no_show = Some(*absent);
                    if *absent == Party::Researcher {
                        refund(money.as_mut(), |gross| gross, *at);
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
    s.money = money;
    s
}

/// One more step of the story: its event, and the status it leaves.
fn step(s: &mut Story, status: SessionStatus, name: String, actor: &'static str, at: Time) {
    s.status = status;
    s.events.push(Event { name, actor, at });
    s.updated = at;
}

fn event(name: &str, actor: &'static str, at: Time) -> Event {
    Event {
        name: name.into(),
        actor,
        at,
    }
}

/// Pending from the request; authorised when the reader paid.
fn hold(p: &Planned, price: i64, currency: &str, now: Time) -> Money {
    let rate = tax_rate(currency);
    let taxed = apply_tax(price, rate.as_ref(), false);
    let mut m = Money {
        status: PaymentStatus::Pending,
        amount: taxed.gross_minor,
        tax: taxed.tax_minor,
        rate,
        intent: false,
        refunded: 0,
        updated: p.created,
        entries: Vec::new(),
    };
    if let Some(at) = p.paid.filter(|at| *at <= now) {
        m.status = PaymentStatus::Authorized;
        m.intent = true;
        m.updated = at;
        m.entries
            .push(entry("authorization", m.amount, m.tax, 0, at));
    }
    m
}

fn entry(kind: &'static str, amount: i64, tax: i64, fee: i64, at: Time) -> Entry {
    Entry {
        kind,
        amount,
        tax,
        fee,
        at,
    }
}

fn release(money: Option<&mut Money>, at: Time) {
    let Some(m) = money else { return };
    if m.status == PaymentStatus::Authorized {
        m.entries.push(entry("release", m.amount, m.tax, 0, at));
    }
    m.status = PaymentStatus::Canceled;
    m.updated = at;
}

fn capture(money: Option<&mut Money>, fee_percent: i64, at: Time) {
    let Some(m) = money else { return };
    let fee = percent_of(m.amount, fee_percent);
    m.entries.push(entry("capture", m.amount, m.tax, fee, at));
    m.status = PaymentStatus::Captured;
    m.updated = at;
}

/// Refunds what `amount` says of the gross (nothing moves for 0).
fn refund(money: Option<&mut Money>, amount: impl Fn(i64) -> i64, at: Time) {
    let Some(m) = money else { return };
    let back = amount(m.amount).min(m.amount - m.refunded);
    if back <= 0 {
        return;
    }
    let tax = share(m.tax, back, m.amount);
    m.entries.push(entry("refund", back, tax, 0, at));
    m.refunded += back;
    m.status = if m.refunded >= m.amount {
        PaymentStatus::Refunded
    } else {
        PaymentStatus::PartiallyRefunded
    };
    m.updated = at;
}
