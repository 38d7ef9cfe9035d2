//! Validated domain types: once a value exists, it is valid.

pub mod email;
pub mod ids;
pub mod paper;
pub mod password;
pub mod role;
pub mod text;

pub use email::Email;
pub use ids::{AuditId, PaperId, QueryId, SessionId, UserId};
pub use role::Role;
