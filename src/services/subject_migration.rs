//! `colloquy keys migrate-subjects`: moves personal values written under a
//! keyring key (before per-subject keys existed, or while the key store
//! was out of reach) to their subject's own key, in batches, with
//! progress. Resumable: each batch commits, and a rerun picks up what is
//! left. Each batch makes its subjects' keys in one write of the key store.

use serde_json::json;

use crate::db::encrypted_columns::{self as columns, ENCRYPTED_COLUMNS};
use crate::db::repos::audit;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub const BATCH: usize = 1_000;

/// Moves every value whose row names a subject; `progress` is told
/// `(column, done, total)` after each batch. Returns how many moved.
pub fn migrate(state: &AppState, progress: &dyn Fn(&str, usize, usize)) -> AppResult<usize> {
    let mut moved = 0;
    for col in ENCRYPTED_COLUMNS.iter().filter(|c| c.subject.is_some()) {
        let name = format!("{}.{}", col.table, col.column);
        let total = state
            .db
            .write_blocking(|tx| columns::count_unmigrated(tx, col))?;
        let mut done = 0;
        progress(&name, 0, total);
        loop {
            let rows = state
                .db
                .write_blocking(|tx| columns::batch_unmigrated(tx, col, BATCH))?;
            if rows.is_empty() {
                break;
            }
            let subjects: Vec<String> = rows.iter().map(|(_, _, s)| s.clone()).collect();
            state
                .keys
                .ensure_subject_keys(&subjects)
                .map_err(|e| AppError::internal(format!("subject keys: {e}")))?;
            let n = state.db.write_blocking(|tx| {
                for (id, stored, subject) in &rows {
                    let plain = state
                        .keys
                        .decrypt(col.aad, stored)
                        .map_err(|e| AppError::internal(format!("{name} row {id}: {e}")))?;
                    let sealed = state.keys.reseal_for(subject, col.aad, &plain);
                    columns::replace(tx, col, *id, &sealed)?;
                }
                Ok(rows.len())
            })?;
            done += n;
            moved += n;
            progress(&name, done.min(total), total);
        }
    }
    if moved > 0 {
        let now = state.now();
        state.db.write_blocking(|tx| {
            let ev = audit::NewEvent {
                actor: None,
                action: "keys.subjects_migrated",
                target: None,
                detail: json!({"moved": moved}),
                ip: None,
            };
            audit::append(tx, &state.keys, ev, now)
        })?;
    }
    Ok(moved)
}

/// Values still under a keyring key whose rows name a subject.
pub fn remaining(state: &AppState) -> AppResult<usize> {
    let mut n = 0;
    for col in ENCRYPTED_COLUMNS.iter().filter(|c| c.subject.is_some()) {
        n += state
            .db
            .write_blocking(|tx| columns::count_unmigrated(tx, col))?;
    }
    Ok(n)
}
