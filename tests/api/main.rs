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
mod payments_access;
mod payments_failures;
mod payments_fixtures;
mod payments_held;
mod payments_invoices;
mod payments_off;
mod payments_pages;
mod payments_refunds;
mod payments_subscriptions;
mod payments_webhooks;
mod sessions;
mod sessions_access;
mod sessions_at_rest;
mod sessions_booking;
mod sessions_fixtures;
mod sessions_ics;
mod sessions_jobs;
mod sessions_lifecycle;
mod sessions_pages;
mod sessions_reschedule;
mod sessions_settings;
mod sessions_slots;
mod sessions_time_zones;
mod sessions_transitions;
mod smtp_sink;
mod stripe_fakes;
mod zoom;
mod zoom_failures;
mod zoom_fakes;
