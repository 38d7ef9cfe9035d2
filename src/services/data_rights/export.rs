//! A person's copy of everything held about their account (Art. 15, 20):
//! every row of every personal table that names them, decrypted, with
//! what each table is for. Withheld columns and excluded tables are named
//! with their reasons, so the copy says what it leaves out and why.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use crate::db::personal_data::{Treatment, PERSONAL_TABLES};
use crate::db::repos::{audit, personal_export};
use crate::domain::UserId;
use crate::error::{AppError, AppResult};
use crate::services::accounts::{event, Principal};
use crate::state::AppState;

pub const FORMAT: &str = "colloquy-export/1";

#[derive(Debug, Serialize, ToSchema)]
pub struct DataExport {
    /// `colloquy-export/1`.
    pub format: String,
    pub generated_at: DateTime<Utc>,
    pub subject: ExportSubject,
    /// One entry per exported table: what it holds, why, on what basis,
    /// for how long, how many rows, and the columns left out (with why).
    pub sections: Vec<ExportSection>,
    /// The rows, per table: every column (encrypted ones decrypted, under
    /// their name without `_enc`), except the withheld ones.
    #[schema(value_type = Object)]
    pub data: BTreeMap<String, Vec<Map<String, Value>>>,
    /// Tables that hold personal data but are not in the copy, and why.
    pub excluded: Vec<ExcludedTable>,
    /// Encrypted values that did not decrypt (a lost key): null in `data`.
    pub undecryptable: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportSubject {
    /// The account; null for a collected profile nobody owns.
    pub user_id: Option<UserId>,
    /// The researcher profile the account owns, if any.
    pub researcher_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportSection {
    pub table: String,
    pub holds: String,
    pub purpose: String,
    pub legal_basis: String,
    pub retention: String,
    pub rows: usize,
    pub withheld: Vec<Withheld>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Withheld {
    pub column: String,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExcludedTable {
    pub table: String,
    pub reason: String,
}

/// The signed-in account's own data, audited as `data.exported`.
pub async fn export_account(
    state: &AppState,
    who: &Principal,
    ip: Option<IpAddr>,
) -> AppResult<DataExport> {
    let user = who.user_id;
    let doc = read(state, move |c| personal_export::subject(c, user.0)).await?;
    audited(state, who, "self", format!("user:{user}"), &doc, ip).await?;
    Ok(doc)
}

/// A data subject's copy for an admin answering a request: an account
/// (`user`) or a researcher profile (`researcher`; its owner's account
/// when it has one). Audited as `data.exported` by the admin.
pub async fn export_subject(
    state: &AppState,
    admin: &Principal,
    kind: &str,
    id: i64,
    ip: Option<IpAddr>,
) -> AppResult<DataExport> {
    admin.require_admin()?;
    let doc = match kind {
        "user" => read(state, move |c| personal_export::subject(c, id)).await?,
        "researcher" => read(state, move |c| personal_export::researcher_subject(c, id)).await?,
        _ => return Err(AppError::NotFound),
    };
    audited(state, admin, "admin", format!("{kind}:{id}"), &doc, ip).await?;
    Ok(doc)
}

async fn read(
    state: &AppState,
    lookup: impl FnOnce(&rusqlite::Connection) -> AppResult<Option<personal_export::Subject>>
        + Send
        + 'static,
) -> AppResult<DataExport> {
    let (keys, now) = (state.keys.clone(), state.now());
    state
        .db
        .read(move |c| {
            let s = lookup(c)?.ok_or(AppError::NotFound)?;
            build(c, &keys, &s, now)
        })
        .await
}

/// Every listed table's rows of `s`, in one read transaction.
fn build(
    c: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    s: &personal_export::Subject,
    now: DateTime<Utc>,
) -> AppResult<DataExport> {
    let mut doc = DataExport {
        format: FORMAT.into(),
        generated_at: now,
        subject: ExportSubject {
            user_id: s.user.map(UserId),
            researcher_id: s.researcher,
        },
        sections: Vec::new(),
        data: BTreeMap::new(),
        excluded: Vec::new(),
        undecryptable: 0,
    };
    for t in PERSONAL_TABLES {
        match t.treatment {
            Treatment::Excluded { reason } => doc.excluded.push(ExcludedTable {
                table: t.table.into(),
                reason: reason.into(),
            }),
            Treatment::Exported { withheld, .. } => {
                let (rows, bad) = personal_export::rows(c, keys, t, s)?;
                doc.undecryptable += bad;
                doc.sections.push(ExportSection {
                    table: t.table.into(),
                    holds: t.holds.into(),
                    purpose: t.purpose.into(),
                    legal_basis: t.basis.into(),
                    retention: t.retention.into(),
                    rows: rows.len(),
                    withheld: withheld
                        .iter()
                        .map(|(column, reason)| Withheld {
                            column: column.to_string(),
                            reason: reason.to_string(),
                        })
                        .collect(),
                });
                doc.data.insert(t.table.into(), rows);
            }
        }
    }
    Ok(doc)
}

/// The `data.exported` audit row: who asked (`self` or `admin`), whose
/// data, how many rows.
async fn audited(
    state: &AppState,
    who: &Principal,
    by: &'static str,
    target: String,
    doc: &DataExport,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    let rows: usize = doc.sections.iter().map(|s| s.rows).sum();
    let (keys, actor, now) = (state.keys.clone(), who.user_id, state.now());
    state
        .db
        .write(move |tx| {
            let detail = json!({"by": by, "tables": PERSONAL_TABLES.len(), "rows": rows});
            let ev = event(Some(actor), "data.exported", Some(target), detail, ip);
            audit::append(tx, &keys, ev, now)?;
            Ok(())
        })
        .await?;
    if doc.undecryptable > 0 {
        tracing::warn!(user_id = %actor, count = doc.undecryptable, "data export: values did not decrypt");
    }
    Ok(())
}
