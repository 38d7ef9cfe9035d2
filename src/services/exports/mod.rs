//! Exports: a dataset as CSV or NDJSON, scoped to the caller (admins see
//! everything), streamed in batches so memory stays flat whatever the size,
//! and audited. The API and `colloquy export` share it.
//!
//! A producer task reads one keyset batch at a time through the reader
//! pool, encodes it (`encode.rs`) and hands it to a bounded channel; the
//! response body (or the CLI's file) drains the channel. A slow client
//! slows the producer down instead of filling memory.

mod analytics;
mod datasets;
mod encode;

use std::net::IpAddr;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::mpsc;

use crate::db::repos::audit;
use crate::domain::{ResearcherId, UserId};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{event, Principal};
use crate::services::analytics::Bucket;
use crate::state::AppState;

pub use encode::guard;

/// Rows read and encoded per step.
pub const BATCH: usize = 1000;

/// What can be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    Sessions,
    Payments,
    Invoices,
    Reviews,
    Researchers,
    Users,
    /// The admins' analytics series, flattened: one row per series and
    /// bucket.
    Analytics,
}

impl Dataset {
    pub const ALL: [Dataset; 7] = [
        Dataset::Sessions,
        Dataset::Payments,
        Dataset::Invoices,
        Dataset::Reviews,
        Dataset::Researchers,
        Dataset::Users,
        Dataset::Analytics,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dataset::Sessions => "sessions",
            Dataset::Payments => "payments",
            Dataset::Invoices => "invoices",
            Dataset::Reviews => "reviews",
            Dataset::Researchers => "researchers",
            Dataset::Users => "users",
            Dataset::Analytics => "analytics",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|d| d.as_str()).collect();
                format!("must be one of {}", names.join(", "))
            })
    }

    /// Datasets about other people as a whole: admins only.
    fn admin_only(self) -> bool {
        matches!(
            self,
            Dataset::Researchers | Dataset::Users | Dataset::Analytics
        )
    }
}

/// CSV (RFC 4180, a header row) or NDJSON (one JSON object a line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    pub fn parse(s: Option<&str>) -> Result<Self, String> {
        match s.unwrap_or("csv") {
            "csv" => Ok(Format::Csv),
            "json" | "ndjson" => Ok(Format::Json),
            _ => Err("must be csv or json".into()),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/x-ndjson",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "ndjson",
        }
    }
}

/// Whose rows an export holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope {
    /// `None`: everyone's (admins and the command line).
    pub user: Option<UserId>,
    /// The researcher profile the user owns, if any.
    pub researcher: Option<ResearcherId>,
}

/// A checked export request.
#[derive(Debug, Clone)]
pub struct Export {
    pub dataset: Dataset,
    pub format: Format,
    /// Rows dated at or after `from` and before `to` (when given).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The analytics dataset's bucket (default `week`).
    pub bucket: Bucket,
    pub(crate) scope: Scope,
}

/// An export's query string as given: `format`, `from`, `to` and (for
/// `analytics`) `bucket`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<'a> {
    pub format: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub bucket: Option<&'a str>,
}

impl Export {
    /// The dated file name for `Content-Disposition`:
    /// `colloquy-sessions-2026-12-05.csv`.
    pub fn file_name(&self, now: DateTime<Utc>) -> String {
        format!(
            "colloquy-{}-{}.{}",
            self.dataset.as_str(),
            now.format("%Y-%m-%d"),
            self.format.extension()
        )
    }
}

fn parse_time(raw: Option<&str>) -> Result<Option<DateTime<Utc>>, String> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| "must be a date (2026-03-02) or an RFC 3339 time".to_string())
}

/// Checks a request for `who` (None: the command line, which sees all).
pub async fn prepare(
    state: &AppState,
    who: Option<&Principal>,
    dataset: &str,
    q: &Query<'_>,
) -> AppResult<Export> {
    let mut errors = crate::error::FieldErrors::new();
    let dataset = errors.check("dataset", Dataset::parse(dataset));
    let format = errors.check("format", Format::parse(q.format));
    let from = errors.check("from", parse_time(q.from));
    let to = errors.check("to", parse_time(q.to));
    let bucket = errors.check("bucket", parse_bucket(dataset, q.bucket));
    errors.into_result()?;
    let (Some(dataset), Some(format), Some(from), Some(to), Some(bucket)) =
        (dataset, format, from, to, bucket)
    else {
        return Err(AppError::internal("checked export fields missing"));
    };
    if let (Some(f), Some(t)) = (from, to) {
        if t <= f {
            return Err(AppError::field("to", "must be after from"));
        }
    }
    let scope = match who {
        Some(w) if !w.is_admin() => {
            if dataset.admin_only() {
                return Err(AppError::Forbidden);
            }
            let id = w.user_id;
            let researcher = state
                .db
                .read(move |c| crate::db::repos::researchers::by_user(c, id))
                .await?;
            Scope {
                user: Some(w.user_id),
                researcher,
            }
        }
        _ => Scope {
            user: None,
            researcher: None,
        },
    };
    Ok(Export {
        dataset,
        format,
        from,
        to,
        bucket,
        scope,
    })
}

/// `bucket` belongs to the analytics dataset only.
fn parse_bucket(dataset: Option<Dataset>, raw: Option<&str>) -> Result<Bucket, String> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(Bucket::Week),
        Some(_) if dataset.is_some_and(|d| d != Dataset::Analytics) => {
            Err("only the analytics dataset has buckets".into())
        }
        raw => Bucket::parse(raw),
    }
}

/// Records who exported what, before the first byte goes out.
pub async fn audit_export(
    state: &AppState,
    who: Option<UserId>,
    e: &Export,
    via: &str,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    let detail = json!({
        "dataset": e.dataset.as_str(),
        "format": e.format.extension(),
        "from": e.from.map(crate::db::ts),
        "to": e.to.map(crate::db::ts),
        "bucket": (e.dataset == Dataset::Analytics).then(|| e.bucket.as_str()),
        "scope": if e.scope.user.is_some() { "own" } else { "all" },
        "via": via,
    });
    let (keys, now) = (state.keys.clone(), state.now());
    let target = Some(format!("export:{}", e.dataset.as_str()));
    state
        .db
        .write(move |tx| {
            audit::append(
                tx,
                &keys,
                event(who, "export.downloaded", target, detail, ip),
                now,
            )
            .map(|_| ())
        })
        .await
}

/// A checked, audited export that is running: its request, the dated
/// file name and the encoded chunks (`stream`).
pub struct Started {
    pub export: Export,
    pub file_name: String,
    pub chunks: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

/// What the API and the pages do for a download: check the request for
/// `who`, audit it (`via`: `api` or `web`), and start the producer.
pub async fn start(
    state: &AppState,
    who: &Principal,
    dataset: &str,
    query: Query<'_>,
    via: &str,
    ip: Option<IpAddr>,
) -> AppResult<Started> {
    let export = prepare(state, Some(who), dataset, &query).await?;
    audit_export(state, Some(who.user_id), &export, via, ip).await?;
    Ok(Started {
        file_name: export.file_name(state.now()),
        chunks: stream(state, export.clone()),
        export,
    })
}

/// Starts the producer; the receiver yields encoded chunks (the header
/// first for CSV) and ends after the last batch. An error mid-way ends the
/// stream with that error (the client sees a cut-off download; the log
/// says why).
pub fn stream(state: &AppState, e: Export) -> mpsc::Receiver<Result<Bytes, std::io::Error>> {
    let (tx, rx) = mpsc::channel(4);
    let state = state.clone();
    tokio::spawn(async move {
        let mut first = true;
        let mut cursor = datasets::Cursor::Start;
        loop {
            let batch = datasets::batch(&state, &e, cursor, BATCH).await;
            let (rows, next) = match batch {
                Ok(b) => b,
                Err(err) => {
                    tracing::error!(error = %err, dataset = e.dataset.as_str(), "export failed");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            };
            let chunk = encode::chunk(e.format, datasets::headers(e.dataset), &rows, first);
            first = false;
            match chunk {
                Ok(bytes) if !bytes.is_empty() => {
                    if tx.send(Ok(Bytes::from(bytes))).await.is_err() {
                        return; // the client went away
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    let _ = tx.send(Err(err)).await;
                    return;
                }
            }
            match next {
                Some(c) => cursor = c,
                None => return,
            }
        }
    });
    rx
}
