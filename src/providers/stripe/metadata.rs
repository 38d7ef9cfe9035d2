//! The metadata Colloquy writes on Stripe objects and reads back from
//! events: every key is named here and nowhere else.

use std::collections::HashMap;

use crate::domain::{ConsultingSessionId, SubscriptionId, UserId};

/// On a PaymentIntent (and its Checkout Session): the session it pays for.
pub const SESSION_ID: &str = "session_id";
/// On a subscription started before its row was written after Stripe's
/// answer: Colloquy's subscription. Newer subscriptions carry `USER_ID`,
/// and their row is found through their Checkout Session.
pub const SUBSCRIPTION_ID: &str = "colloquy_subscription_id";
/// On a Customer, and on a subscription (and its Checkout Session): the
/// user it was made for.
pub const USER_ID: &str = "user_id";

pub type Metadata = HashMap<String, String>;

fn one(key: &str, value: i64) -> Metadata {
    HashMap::from([(key.to_string(), value.to_string())])
}

fn read(m: &Metadata, key: &str) -> Option<i64> {
    m.get(key).and_then(|v| v.parse().ok())
}

pub fn for_session(id: ConsultingSessionId) -> Metadata {
    one(SESSION_ID, id.0)
}

pub fn for_subscription(id: SubscriptionId) -> Metadata {
    one(SUBSCRIPTION_ID, id.0)
}

pub fn for_user(id: UserId) -> Metadata {
    one(USER_ID, id.0)
}

/// The session a PaymentIntent says it pays for (a hint: trust the
/// Checkout Session or the stored intent id, not this).
pub fn session_of(m: &Metadata) -> Option<ConsultingSessionId> {
    read(m, SESSION_ID).map(ConsultingSessionId)
}

pub fn subscription_of(m: &Metadata) -> Option<SubscriptionId> {
    read(m, SUBSCRIPTION_ID).map(SubscriptionId)
}

/// The user a Customer or a subscription was made for.
pub fn user_of(m: &Metadata) -> Option<UserId> {
    read(m, USER_ID).map(UserId)
}

/// Notes on a subscription read from Stripe which local subscription it
/// is, once Stripe's own Checkout Session showed it (never sent back to
/// Stripe): what `subscription_of` then reads.
pub fn link_subscription(m: &mut Metadata, id: SubscriptionId) {
    m.insert(SUBSCRIPTION_ID.to_string(), id.0.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back() {
        let m = for_session(ConsultingSessionId(42));
        assert_eq!(session_of(&m), Some(ConsultingSessionId(42)));
        assert_eq!(
            subscription_of(&for_subscription(SubscriptionId(7))),
            Some(SubscriptionId(7))
        );
        assert_eq!(
            for_user(UserId(3)).get(USER_ID).map(String::as_str),
            Some("3")
        );
        assert_eq!(user_of(&for_user(UserId(3))), Some(UserId(3)));
        let mut m = for_user(UserId(3));
        link_subscription(&mut m, SubscriptionId(9));
        assert_eq!(subscription_of(&m), Some(SubscriptionId(9)));
    }

    #[test]
    fn a_missing_or_garbled_value_reads_as_none() {
        assert_eq!(session_of(&Metadata::new()), None);
        assert_eq!(session_of(&one(SUBSCRIPTION_ID, 1)), None);
        let garbled = HashMap::from([(SESSION_ID.to_string(), "x1".to_string())]);
        assert_eq!(session_of(&garbled), None);
    }
}
