//! Each dataset's columns and one keyset batch of its rows, through the
//! repos' own list queries, scoped as `Scope` says.

use chrono::{DateTime, Utc};

use super::encode::Cell;
use super::{Dataset, Export};
use crate::db::repos::consulting_sessions::{self as sessions, ListFilter};
use crate::db::repos::ledger::{self, LedgerFilter};
use crate::db::repos::reviews::{self, QueueFilter};
use crate::db::repos::{researchers, users};
use crate::domain::{
    ConsultingSessionId, InvoiceId, LedgerEntryId, ResearcherId, ReviewId, UserId,
};
use crate::error::AppResult;
use crate::state::AppState;

/// Where the next batch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    Start,
    /// Newest-first lists: ids below this.
    Before(i64),
    /// Oldest-first lists: ids above this.
    After(i64),
}

pub fn headers(d: Dataset) -> &'static [&'static str] {
    match d {
        Dataset::Sessions => &[
            "id",
            "status",
            "start",
            "end",
            "duration_minutes",
            "researcher_id",
            "researcher_name",
            "reader_id",
            "reader_name",
            "paper_id",
            "paper_title",
            "topic",
            "price_minor",
            "currency",
            "price",
            "created_at",
        ],
        Dataset::Payments => &[
            "id",
            "kind",
            "session_id",
            "subscription_id",
            "amount_minor",
            "tax_minor",
            "fee_minor",
            "currency",
            "amount",
            "tax",
            "fee",
            "invoice_number",
            "created_at",
        ],
        Dataset::Invoices => &[
            "id",
            "number",
            "kind",
            "user_id",
            "net_minor",
            "tax_minor",
            "total_minor",
            "currency",
            "net",
            "tax",
            "total",
            "issued_at",
        ],
        Dataset::Reviews => &[
            "id",
            "session_id",
            "side",
            "researcher_id",
            "author",
            "rating",
            "comment",
            "status",
            "reply",
            "created_at",
        ],
        Dataset::Researchers => &[
            "id",
            "name",
            "affiliation",
            "orcid",
            "email",
            "email_quality",
            "h_index",
            "works_count",
            "user_id",
            "collected_at",
            "created_at",
        ],
        Dataset::Users => &[
            "id",
            "name",
            "email",
            "role",
            "email_verified",
            "disabled",
            "deleted",
            "timezone",
            "created_at",
        ],
        Dataset::Analytics => &["metric", "bucket_start", "currency", "value"],
    }
}

/// Whether a stored time (RFC 3339) lies in the export's range.
fn in_range(e: &Export, stored: &str) -> bool {
    let Ok(t) = crate::db::parse_ts(stored) else {
        return true;
    };
    let t: DateTime<Utc> = t;
    e.from.is_none_or(|f| t >= f) && e.to.is_none_or(|to| t < to)
}

/// The next cursor after a newest-first batch: more when it was full.
fn next_before(ids: Option<i64>, full: bool) -> Option<Cursor> {
    ids.filter(|_| full).map(Cursor::Before)
}

fn before(c: Cursor) -> Option<i64> {
    match c {
        Cursor::Before(id) => Some(id),
        _ => None,
    }
}

fn flag(b: bool) -> Cell {
    Cell::Int(i64::from(b))
}

/// One batch of `e`'s rows from `cursor`, and where the next starts
/// (`None`: that was the last).
pub async fn batch(
    state: &AppState,
    e: &Export,
    cursor: Cursor,
    limit: usize,
) -> AppResult<(Vec<Vec<Cell>>, Option<Cursor>)> {
    if e.dataset == Dataset::Analytics {
        return Ok((super::analytics::rows(state, e).await?, None));
    }
    let (keys, e2) = (state.keys.clone(), e.clone());
    state
        .db
        .read(move |c| {
            let e = &e2;
            let scope = e.scope;
            Ok(match e.dataset {
                Dataset::Sessions => {
                    let f = ListFilter {
                        user: scope.user.unwrap_or(UserId(0)),
                        researcher: scope.researcher,
                        all: scope.user.is_none(),
                        status: None,
                        from: e.from,
                        to: e.to,
                        starts_from: None,
                        of_researcher: None,
                        before_id: before(cursor).map(ConsultingSessionId),
                        limit,
                    };
                    let rows = sessions::list_for_export(c, &keys, &f)?;
                    let next = next_before(rows.last().map(|r| r.id.0), rows.len() == limit);
                    let cells = rows
                        .into_iter()
                        .map(|s| {
                            vec![
                                Cell::Int(s.id.0),
                                Cell::text(s.status.as_str()),
                                Cell::Time(s.start_at),
                                Cell::Time(s.end_at),
                                Cell::Int(s.duration_minutes),
                                Cell::Int(s.researcher_id.0),
                                Cell::text(s.researcher_name),
                                Cell::Int(s.reader_id.0),
                                Cell::text(s.reader_name),
                                Cell::opt_int(s.paper_id.map(|p| p.0)),
                                Cell::opt_text(s.paper_title),
                                Cell::text(s.topic),
                                Cell::Int(s.price_minor),
                                Cell::text(s.currency.as_str()),
                                Cell::amount(s.price_minor, &s.currency),
                                Cell::Time(s.created_at),
                            ]
                        })
                        .collect();
                    (cells, next)
                }
                Dataset::Payments => {
                    let f = LedgerFilter {
                        user_id: scope.user,
                        kind: None,
                        session_id: None,
                        before_id: before(cursor).map(LedgerEntryId),
                        limit,
                    };
                    let rows = ledger::list(c, &f)?;
                    let next = next_before(rows.last().map(|r| r.id.0), rows.len() == limit);
                    let cells = rows
                        .into_iter()
                        .filter(|l| in_range(e, &l.created_at))
                        .map(|l| {
                            vec![
                                Cell::Int(l.id.0),
                                Cell::text(l.kind),
                                Cell::opt_int(l.session_id.map(|s| s.0)),
                                Cell::opt_int(l.subscription_id.map(|s| s.0)),
                                Cell::Int(l.amount_minor),
                                Cell::Int(l.tax_minor),
                                Cell::Int(l.fee_minor),
                                Cell::text(l.currency.code()),
                                Cell::amount(l.amount_minor, l.currency.code()),
                                Cell::amount(l.tax_minor, l.currency.code()),
                                Cell::amount(l.fee_minor, l.currency.code()),
                                Cell::opt_text(l.invoice_number),
                                Cell::Time(l.created_at),
                            ]
                        })
                        .collect();
                    (cells, next)
                }
                Dataset::Invoices => {
                    let rows =
                        ledger::invoice_lines(c, scope.user, before(cursor).map(InvoiceId), limit)?;
                    let next = next_before(rows.last().map(|r| r.id.0), rows.len() == limit);
                    let cells = rows
                        .into_iter()
                        .filter(|i| in_range(e, &i.issued_at))
                        .map(|i| {
                            vec![
                                Cell::Int(i.id.0),
                                Cell::text(i.number),
                                Cell::text(i.kind),
                                Cell::opt_int(i.user_id.map(|u| u.0)),
                                Cell::Int(i.net_minor),
                                Cell::Int(i.tax_minor),
                                Cell::Int(i.total_minor),
                                Cell::text(i.currency.as_str()),
                                Cell::amount(i.net_minor, &i.currency),
                                Cell::amount(i.tax_minor, &i.currency),
                                Cell::amount(i.total_minor, &i.currency),
                                Cell::Time(i.issued_at),
                            ]
                        })
                        .collect();
                    (cells, next)
                }
                Dataset::Reviews => review_batch(c, &keys, e, cursor, limit)?,
                Dataset::Researchers => {
                    let rows = researchers::search(
                        c,
                        &keys,
                        None,
                        before(cursor).map(ResearcherId),
                        limit,
                    )?;
                    let next = next_before(rows.last().map(|r| r.id.0), rows.len() == limit);
                    let cells = rows
                        .into_iter()
                        .filter(|r| in_range(e, &r.created_at))
                        .map(|r| {
                            vec![
                                Cell::Int(r.id.0),
                                Cell::text(r.name),
                                Cell::opt_text(r.affiliation),
                                Cell::opt_text(r.orcid),
                                Cell::opt_text(r.email),
                                Cell::opt_text(r.email_quality),
                                Cell::opt_int(r.h_index),
                                Cell::opt_int(r.works_count),
                                Cell::opt_int(r.user_id.map(|u| u.0)),
                                r.collected_at.map_or(Cell::Empty, Cell::Time),
                                Cell::Time(r.created_at),
                            ]
                        })
                        .collect();
                    (cells, next)
                }
                Dataset::Users => {
                    let after = match cursor {
                        Cursor::After(id) => Some(UserId(id)),
                        _ => None,
                    };
                    let rows = users::list(c, &keys, after, limit)?;
                    let next = rows
                        .last()
                        .filter(|_| rows.len() == limit)
                        .map(|u| Cursor::After(u.id.0));
                    let cells = rows
                        .into_iter()
                        .filter(|u| in_range(e, &u.created_at))
                        .map(|u| {
                            vec![
                                Cell::Int(u.id.0),
                                Cell::text(u.name),
                                Cell::text(u.email),
                                Cell::text(u.role.as_str()),
                                flag(u.email_verified),
                                flag(u.disabled),
                                flag(u.deleted),
                                Cell::opt_text(u.timezone),
                                Cell::Time(u.created_at),
                            ]
                        })
                        .collect();
                    (cells, next)
                }
                // Answered before the read, above.
                Dataset::Analytics => (Vec::new(), None),
            })
        })
        .await
}

/// Reviews: admins every review; others the reviews they wrote (first
/// batch) and then the published reviews of their researcher profile, the
/// reviewers shortened as the public list shows them.
fn review_batch(
    c: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    e: &Export,
    cursor: Cursor,
    limit: usize,
) -> AppResult<(Vec<Vec<Cell>>, Option<Cursor>)> {
    let cells = |r: reviews::ReviewRow, author: String| {
        vec![
            Cell::Int(r.id.0),
            Cell::Int(r.session_id.0),
            Cell::text(r.side.as_str()),
            Cell::Int(r.researcher_id.0),
            Cell::text(author),
            Cell::Int(i64::from(r.rating)),
            Cell::opt_text(r.comment),
            Cell::text(r.status.as_str()),
            Cell::opt_text(r.reply),
            Cell::Time(r.created_at),
        ]
    };
    let short = crate::services::reviews::short_name;
    match (e.scope.user, cursor) {
        (None, _) => {
            let rows = reviews::queue(
                c,
                keys,
                QueueFilter::All,
                before(cursor).map(ReviewId),
                limit,
            )?;
            let next = next_before(rows.last().map(|r| r.id.0), rows.len() == limit);
            let out = rows
                .into_iter()
                .filter(|r| in_range(e, &r.created_at))
                .map(|r| {
                    let author = r.author_name.clone();
                    cells(r, author)
                })
                .collect();
            Ok((out, next))
        }
        (Some(me), Cursor::Start) => {
            let out = reviews::by_reader(c, keys, me)?
                .into_iter()
                .filter(|r| r.author_id == me && in_range(e, &r.created_at))
                .map(|r| {
                    let author = r.author_name.clone();
                    cells(r, author)
                })
                .collect();
            Ok((out, e.scope.researcher.map(|_| Cursor::Before(i64::MAX))))
        }
        (Some(_), cursor) => {
            let Some(researcher) = e.scope.researcher else {
                return Ok((Vec::new(), None));
            };
            let rows =
                reviews::published_of(c, keys, researcher, before(cursor).map(ReviewId), limit)?;
            let next = next_before(rows.last().map(|r| r.id.0), rows.len() == limit);
            let out = rows
                .into_iter()
                .filter(|r| in_range(e, &r.created_at))
                .map(|r| {
                    let author = short(&r.author_name);
                    cells(r, author)
                })
                .collect();
            Ok((out, next))
        }
    }
}
