//! Colloquy: book consulting sessions with the authors of research papers.
//! One binary: axum HTTP server, SQLite storage with field encryption,
//! in-process cache and scheduler. See docs/architecture.md.

pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod memory;
pub mod metrics;
pub mod pagination;
pub mod providers;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use db::repos;
