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
    pub user_id: UserId,
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
    let (keys, user, now) = (state.keys.clone(), who.user_id, state.now());
    let doc = state
        .db
        .read(move |c| {
            let s = personal_export::subject(c, user.0)?.ok_or(AppError::NotFound)?;
            let mut doc = DataExport {
                format: FORMAT.into(),
                generated_at: now,
                subject: ExportSubject {
                    user_id: user,
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
                        let (rows, bad) = personal_export::rows(c, &keys, t, &s)?;
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
        })
        .await?;
    let rows: usize = doc.sections.iter().map(|s| s.rows).sum();
    let (keys, actor) = (state.keys.clone(), who.user_id);
    state
        .db
        .write(move |tx| {
            let detail = json!({"by": "self", "tables": PERSONAL_TABLES.len(), "rows": rows});
            let ev = event(
                Some(actor),
                "data.exported",
                Some(format!("user:{actor}")),
                detail,
                ip,
            );
            audit::append(tx, &keys, ev, now)?;
            Ok(())
        })
        .await?;
    if doc.undecryptable > 0 {
        tracing::warn!(user_id = %actor, count = doc.undecryptable, "data export: values did not decrypt");
    }
    Ok(doc)
}
