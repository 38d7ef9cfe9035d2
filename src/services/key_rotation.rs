//! `colloquy keys rotate`: a new primary key, then every value under a
//! keyring key re-encrypted and every subject key rewrapped, in batches. `colloquy keys drop-old` (or `rotate
//! --drop-old`) then removes the retired keys once nothing uses them.

use serde_json::json;

use crate::crypto::key_id_of;
use crate::db::encrypted_columns::{self as columns, ENCRYPTED_COLUMNS};
use crate::db::repos::audit;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub const BATCH: usize = 500;

pub struct RotationReport {
    pub new_key_id: String,
    pub reencrypted: usize,
    pub subject_keys_rewrapped: usize,
    /// The new keyring, when keys live in the environment.
    pub keyring_json: Option<String>,
    pub dropped: Vec<String>,
}

/// Rotates the primary key and re-encrypts everything. `progress` is told
/// `(column, done, total)` after each batch.
pub fn rotate(
    state: &AppState,
    drop_old: bool,
    progress: &dyn Fn(&str, usize, usize),
) -> AppResult<RotationReport> {
    let now = state.now();
    let (new_key_id, mut keyring_json) = state
        .keys
        .add_primary(&now.to_rfc3339())
        .map_err(AppError::Internal)?;
    let prefix = format!("v1:{new_key_id}:");
    let mut reencrypted = 0;
    for col in ENCRYPTED_COLUMNS {
        let name = format!("{}.{}", col.table, col.column);
        let total = state
            .db
            .write_blocking(|tx| columns::count_not_under(tx, col, &prefix))?;
        let mut done = 0;
        progress(&name, 0, total);
        loop {
            let n = state.db.write_blocking(|tx| {
                let rows = columns::batch_not_under(tx, col, &prefix, BATCH)?;
                for (id, stored) in &rows {
                    let plain = state
                        .keys
                        .decrypt(col.aad, stored)
                        .map_err(|e| AppError::internal(format!("{name} row {id}: {e}")))?;
                    columns::replace(tx, col, *id, &state.keys.encrypt(col.aad, &plain))?;
                }
                Ok(rows.len())
            })?;
            if n == 0 {
                break;
            }
            done += n;
            reencrypted += n;
            progress(&name, done.min(total), total);
        }
    }
    let subject_keys_rewrapped = state
        .keys
        .rewrap_subject_keys(BATCH, &|done, total| progress("subject keys", done, total))
        .map_err(|e| AppError::internal(format!("subject keys: {e}")))?;
    let detail = json!({"new_key_id": new_key_id, "reencrypted": reencrypted, "subject_keys_rewrapped": subject_keys_rewrapped});
    state.db.write_blocking(|tx| {
        audit::append(
            tx,
            &state.keys,
            audit::NewEvent {
                actor: None,
                action: "keys.rotated",
                target: None,
                detail,
                ip: None,
            },
            now,
        )
    })?;
    let mut dropped = Vec::new();
    if drop_old {
        let (d, json) = drop_old_keys(state)?;
        dropped = d;
        keyring_json = json.or(keyring_json);
    }
    Ok(RotationReport {
        new_key_id,
        reencrypted,
        subject_keys_rewrapped,
        keyring_json,
        dropped,
    })
}

/// Removes every key but the primary, after checking that no stored value
/// still needs one; returns the dropped ids (and the new keyring JSON when
/// keys live in the environment).
fn drop_unused(state: &AppState) -> AppResult<(Vec<String>, Option<String>)> {
    let primary = state.keys.primary_id();
    let still_used = old_key_uses(state, &primary)?;
    if still_used > 0 {
        return Err(AppError::conflict(
            "keys_in_use",
            format!(
                "{still_used} stored values still use an old key; run `colloquy keys rotate` first"
            ),
        ));
    }
    state.keys.drop_retired().map_err(AppError::Internal)
}

/// `colloquy keys drop-old`: drops the retired keys once nothing uses them.
pub fn drop_old_keys(state: &AppState) -> AppResult<(Vec<String>, Option<String>)> {
    let now = state.now();
    let (dropped, json) = drop_unused(state)?;
    if dropped.is_empty() {
        return Ok((dropped, json));
    }
    let detail = json!({"dropped": dropped});
    state.db.write_blocking(|tx| {
        let ev = audit::NewEvent {
            actor: None,
            action: "keys.dropped",
            target: None,
            detail,
            ip: None,
        };
        audit::append(tx, &state.keys, ev, now)
    })?;
    Ok((dropped, json))
}

/// Counts stored values, and wrapped subject keys, under a keyring key
/// other than `primary`.
fn old_key_uses(state: &AppState, primary: &str) -> AppResult<usize> {
    let mut n = state
        .keys
        .subject_keys_not_under_primary()
        .map_err(|e| AppError::internal(format!("subject keys: {e}")))?;
    for col in ENCRYPTED_COLUMNS {
        let values = state.db.write_blocking(|tx| columns::all_values(tx, col))?;
        n += values
            .iter()
            .filter(|v| key_id_of(v).is_some_and(|k| k != primary))
            .count();
    }
    Ok(n)
}
