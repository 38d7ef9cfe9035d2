//! Crypto-shredding after an erasure commits: the erased subjects' data
//! keys are destroyed (copies of their values in backups stop decrypting)
//! and the WAL is checkpointed (no page image from before stays in it).

use crate::crypto::Subject;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Destroys the subjects' keys, then checkpoints the database so no page
/// image from before the erasure stays in the WAL. Returns how many keys
/// existed.
pub(crate) async fn shred(state: &AppState, subjects: &[Subject]) -> AppResult<usize> {
    let keys = state.keys.clone();
    let subjects = subjects.to_vec();
    let destroyed = tokio::task::spawn_blocking(move || {
        let mut n = 0;
        for s in subjects {
            if keys
                .destroy_subject_key(s)
                .map_err(|e| AppError::internal(format!("destroying the key of {s}: {e}")))?
            {
                n += 1;
            }
        }
        Ok::<_, AppError>(n)
    })
    .await??;
    if !state.db.checkpoint_truncate().await? {
        tracing::info!("a reader held the WAL; the next checkpoint clears it");
    }
    Ok(destroyed)
}
