//! Validated domain types: once a value exists, it is valid.

pub mod availability;
pub mod billing;
pub mod email;
pub mod ids;
pub mod ip;
pub mod money;
pub mod paper;
pub mod password;
pub mod researcher;
pub mod role;
pub mod text;

pub use email::Email;
pub use ids::{
    AuditId, ClaimRequestId, ConsultingSessionId, JobId, MergeReviewId, PaperId, QueryId,
    ResearcherId, SessionId, UserId,
};
pub use role::Role;
