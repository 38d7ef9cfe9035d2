//! The status of every stateful row, one enum per table. Each spells its
//! values exactly as the database's `CHECK (status IN …)` and the API do:
//! `as_str` writes them, `FromStr` reads them back and refuses anything
//! else, and serde and the OpenAPI schema use the same strings.

use std::fmt;

/// A stored or submitted status that is not one of its enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a {kind}")]
pub struct UnknownStatus {
    pub kind: &'static str,
    pub value: String,
}

// `$text` is a `tt`, not a `literal`: a `literal` fragment reaches derive
// macros wrapped in an invisible group, which utoipa does not read as the
// `rename`, so the OpenAPI schema would list the Rust variant names.
macro_rules! status_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order the schema lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as stored and sent.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Every value, comma-separated, for "must be one of" messages.
            pub fn list() -> String {
                Self::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownStatus;

            fn from_str(s: &str) -> Result<Self, UnknownStatus> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownStatus { kind: $kind, value: s.to_string() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                v: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                v.as_str()?
                    .parse()
                    .map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
            }
        }
    };
}

/// For enums of other stored codes (`domain::dispute`).
pub(crate) use status_enum;

status_enum!(
    /// A consulting session's place in its life.
    SessionStatus, "session status" {
        Requested = "requested",
        Accepted = "accepted",
        Declined = "declined",
        Expired = "expired",
        Cancelled = "cancelled",
        Completed = "completed",
        NoShow = "no_show",
    }
);

status_enum!(
    /// Where a session's payment stands with Stripe.
    PaymentStatus, "payment status" {
        Pending = "pending",
        Authorized = "authorized",
        Captured = "captured",
        Canceled = "canceled",
        Refunded = "refunded",
        PartiallyRefunded = "partially_refunded",
        Failed = "failed",
    }
);

status_enum!(
    /// A subscription's status, as Stripe names it (plus `expired`).
    SubscriptionStatus, "subscription status" {
        Incomplete = "incomplete",
        IncompleteExpired = "incomplete_expired",
        Trialing = "trialing",
        Active = "active",
        PastDue = "past_due",
        Unpaid = "unpaid",
        Paused = "paused",
        Canceled = "canceled",
        Expired = "expired",
    }
);

status_enum!(
    /// How far collecting a paper's authors got (`papers.collection_status`).
    CollectionStatus, "collection status" {
        NotCollected = "not_collected",
        Queued = "queued",
        Running = "running",
        Collected = "collected",
        Partial = "partial",
        Failed = "failed",
    }
);

status_enum!(
    /// A collection job's progress.
    JobStatus, "job status" {
        Queued = "queued",
        Running = "running",
        Completed = "completed",
        Partial = "partial",
        Failed = "failed",
    }
);

status_enum!(
    /// Where a review (or a researcher's answer to one) stands.
    ReviewStatus, "review status" {
        Published = "published",
        Held = "held",
        Hidden = "hidden",
        Removed = "removed",
    }
);

status_enum!(
    /// A dispute's place in its life.
    DisputeStatus, "dispute status" {
        Open = "open",
        AwaitingResponse = "awaiting_response",
        UnderReview = "under_review",
        Resolved = "resolved",
        Withdrawn = "withdrawn",
    }
);

impl DisputeStatus {
    /// Whether the dispute still waits for someone (`disputes_one_open`).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            DisputeStatus::Open | DisputeStatus::AwaitingResponse | DisputeStatus::UnderReview
        )
    }
}

impl SessionStatus {
    /// Whether the session holds its time slot (`consulting_sessions::LIVE`).
    pub fn is_live(self) -> bool {
        matches!(self, SessionStatus::Requested | SessionStatus::Accepted)
    }
}

impl JobStatus {
    /// Whether the job has ended (and may be retried).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Partial | JobStatus::Failed
        )
    }
}

/// A paper job's end is its paper's collection status (`completed` reads
/// `collected` there).
impl From<JobStatus> for CollectionStatus {
    fn from(s: JobStatus) -> Self {
        match s {
            JobStatus::Queued => CollectionStatus::Queued,
            JobStatus::Running => CollectionStatus::Running,
            JobStatus::Completed => CollectionStatus::Collected,
            JobStatus::Partial => CollectionStatus::Partial,
            JobStatus::Failed => CollectionStatus::Failed,
        }
    }
}

status_enum!(
    /// An outbox mail's delivery.
    MailStatus, "mail status" {
        Queued = "queued",
        Sent = "sent",
        Failed = "failed",
        Held = "held",
    }
);

status_enum!(
    /// An invitation's progress with its researcher.
    OutreachStatus, "outreach status" {
        Queued = "queued",
        Sent = "sent",
        Opened = "opened",
        Registered = "registered",
        OptedOut = "opted_out",
        Failed = "failed",
    }
);

status_enum!(
    /// A collected researcher's standing with Colloquy.
    ResearcherStatus, "researcher status" {
        Collected = "collected",
        Invited = "invited",
        Registered = "registered",
        OptedOut = "opted_out",
    }
);

status_enum!(
    /// A request to claim a researcher profile.
    ClaimStatus, "claim request status" {
        Open = "open",
        Approved = "approved",
        Refused = "refused",
    }
);

status_enum!(
    /// A suspected duplicate researcher awaiting an admin.
    MergeReviewStatus, "merge review status" {
        Open = "open",
        Merged = "merged",
        Dismissed = "dismissed",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_reads_back_as_itself() {
        for s in SessionStatus::ALL {
            assert_eq!(s.as_str().parse::<SessionStatus>(), Ok(*s));
        }
        for s in SubscriptionStatus::ALL {
            assert_eq!(s.to_string().parse::<SubscriptionStatus>(), Ok(*s));
        }
    }

    #[test]
    fn an_unknown_value_is_refused_with_its_kind() {
        let e = "paid".parse::<PaymentStatus>().unwrap_err();
        assert_eq!(e.to_string(), "\"paid\" is not a payment status");
    }

    #[test]
    fn the_openapi_schema_lists_the_stored_spellings() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(SessionStatus::schema()).unwrap();
        let listed: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let stored: Vec<&str> = SessionStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(listed, stored);
    }

    #[test]
    fn serde_uses_the_stored_spelling() {
        let json = serde_json::to_string(&SessionStatus::NoShow).unwrap();
        assert_eq!(json, "\"no_show\"");
        let back: OutreachStatus = serde_json::from_str("\"opted_out\"").unwrap();
        assert_eq!(back, OutreachStatus::OptedOut);
    }
}
