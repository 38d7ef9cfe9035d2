//! One module per capability; handlers and jobs call these.

pub mod accounts;
pub mod admin;
pub mod claims;
pub mod collection;
pub mod demo;
pub mod demo_accounts;
pub mod health;
pub mod housekeeping;
pub mod instance_settings;
pub mod key_rotation;
pub mod link_tokens;
pub mod login_limits;
pub mod mail;
pub mod outreach;
pub mod paper_search;
pub mod papers;
pub mod passwords;
pub mod payments;
pub mod public_urls;
pub mod rate_limits;
pub mod researchers;
pub mod reviews;
pub mod sessions;
pub mod signup;
pub mod terms;
pub mod tokens;
