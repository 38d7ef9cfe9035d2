//! Validated domain types: once a value exists, it is valid.

pub mod api_schema;
pub mod availability;
mod availability_rules;
pub mod billing;
pub mod consent;
pub mod dispute;
pub mod email;
pub mod engagement;
pub mod ids;
pub mod ip;
pub mod labels;
pub mod money;
pub mod paper;
pub mod password;
pub mod rating;
pub mod researcher;
pub mod role;
pub mod status;
pub mod text;
pub mod zone;

pub use consent::{ConsentAction, ConsentKind, ConsentSource, LegalDocument};
pub use email::Email;
pub use engagement::{ActivePeriod, CounterKind};
pub use ids::{
    AuditId, ClaimRequestId, ConsultingSessionId, DisputeId, DisputeMessageId, InvoiceId, JobId,
    LedgerEntryId, MailId, MergeReviewId, OutreachId, PaperId, ProviderCallId, QueryId,
    ResearcherId, ReviewId, SessionId, SubscriptionId, UserId,
};
pub use role::Role;
pub use status::{
    ClaimStatus, CollectionStatus, DisputeStatus, JobStatus, MailStatus, MergeReviewStatus,
    OutreachStatus, PaymentStatus, ResearcherStatus, ReviewStatus, SessionStatus,
    SubscriptionStatus,
};

#[cfg(test)]
mod parser_properties;
#[cfg(test)]
mod slot_properties;
#[cfg(test)]
mod slot_scenarios;
