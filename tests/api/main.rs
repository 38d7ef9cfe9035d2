#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! The one integration-test binary: the real app on port 0 with a fresh
//! database per test, and wiremock fakes for external services.

mod audit_and_keys;
mod auth;
mod bad_input;
mod browser;
mod browser_booking;
mod cli;
mod collection;
mod collection_access;
mod collection_fakes;
mod collection_merges;
mod collection_pages;
mod collection_providers;
mod encryption_at_rest;
mod health;
mod helpers;
mod jobs;
mod logs;
mod mail;
mod openapi;
mod outreach;
mod outreach_registration;
mod pages;
mod papers;
mod sessions;
mod sessions_fixtures;
mod smtp_sink;
mod zoom;
mod zoom_fakes;
mod zoom_failures;
