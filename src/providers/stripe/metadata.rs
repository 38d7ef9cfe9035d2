//! The metadata Colloquy writes on Stripe objects and reads back from
//! events: every key is named here and nowhere else.

use std::collections::HashMap;

use crate::domain::{ConsultingSessionId, SubscriptionId, UserId};

/// On a PaymentIntent (and its Checkout Session): the session it pays for.
pub const SESSION_ID: &str = "session_id";
/// On a subscription (and its Checkout Session): Colloquy's subscription.
pub const SUBSCRIPTION_ID: &str = "colloquy_subscription_id";
/// On a Customer: the user it was made for.
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
    }

    #[test]
    fn a_missing_or_garbled_value_reads_as_none() {
        assert_eq!(session_of(&Metadata::new()), None);
        assert_eq!(session_of(&one(SUBSCRIPTION_ID, 1)), None);
        let garbled = HashMap::from([(SESSION_ID.to_string(), "x1".to_string())]);
        assert_eq!(session_of(&garbled), None);
    }
}
