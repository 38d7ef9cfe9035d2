//! Accounts as the API and the pages show them (never the stored row).

use serde::Serialize;

use crate::db::repos::users::UserRow;
use crate::domain::{Role, UserId};

/// An account: who it is, its role, its zone and whether its address is
/// confirmed. The password hash never leaves the services.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub timezone: Option<String>,
    pub email_verified: bool,
    pub terms_version: Option<String>,
    pub created_at: String,
    pub status: AccountStatus,
}

/// Whether an account can sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    /// An admin disabled it: no log-in until an admin enables it.
    Disabled,
    /// An admin deleted it: its personal data is erased.
    Deleted,
}

impl AccountStatus {
    /// The status in words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
            AccountStatus::Deleted => "deleted",
        }
    }
}

impl From<UserRow> for Account {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            timezone: u.timezone,
            email_verified: u.email_verified,
            terms_version: u.terms_version,
            created_at: u.created_at,
            status: if u.deleted {
                AccountStatus::Deleted
            } else if u.disabled {
                AccountStatus::Disabled
            } else {
                AccountStatus::Active
            },
        }
    }
}
