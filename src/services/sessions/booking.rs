//! Booking a session: the availability check, the insert and the request
//! e-mail happen in one write transaction, so a slot can never be taken
//! twice. An `Idempotency-Key` makes a retried request answer the same
//! session instead of booking another.

use chrono::{DateTime, Duration, Utc};

use crate::db::repos::consulting_sessions::{self, NewSession};
use crate::db::repos::{queries, researchers};
use crate::domain::availability;
use crate::domain::{text, ConsultingSessionId, PaperId, QueryId, ResearcherId, SessionStatus};
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

use super::settings;
use super::{lifecycle, notify, view, Party, SessionView};

pub const TOPIC_MAX: usize = 1000;

/// A booking request.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BookRequest {
    pub researcher_id: ResearcherId,
    pub start: DateTime<Utc>,
    pub duration_minutes: i64,
    pub topic: String,
    pub paper_id: Option<PaperId>,
    pub query_id: Option<QueryId>,
}

/// The booked session, and whether it was booked by an earlier request
/// with the same `Idempotency-Key`.
pub struct Booked {
    pub session: SessionView,
    pub replayed: bool,
}

fn check_key(key: &str) -> AppResult<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::field(
            "Idempotency-Key",
            "must be 1 to 255 printable ASCII characters",
        ));
    }
    Ok(())
}

/// What is stored to recognise a replayed request: an HMAC under the
/// keyring's index key, so the stored value says nothing about the topic
/// (a bare SHA-256 of a guessable topic could be confirmed offline).
fn request_hash(keys: &crate::crypto::Keyring, req: &BookRequest) -> String {
    let body = serde_json::to_string(req).unwrap_or_default();
    keys.blind_index("idempotency", &body)
}

/// The topic as `book` takes it (a form checks it beside its other fields).
pub fn check_topic(topic: &str) -> AppResult<String> {
    text::block(topic, TOPIC_MAX).map_err(|m| AppError::field("topic", m))
}

fn slot_taken() -> AppError {
    AppError::conflict(
        "slot_unavailable",
        "That time is no longer free. Pick another slot.",
    )
}

pub async fn book(
    state: &AppState,
    who: &Principal,
    req: BookRequest,
    idempotency_key: Option<String>,
) -> AppResult<Booked> {
    let result = book_once(state, who, req, idempotency_key).await;
    state.metrics.booking(match &result {
        Ok(b) if b.replayed => "replayed",
        Ok(_) => "created",
        Err(e) => e.code(),
    });
    result
}

async fn book_once(
    state: &AppState,
    who: &Principal,
    mut req: BookRequest,
    idempotency_key: Option<String>,
) -> AppResult<Booked> {
    req.topic = check_topic(&req.topic)?;
    if let Some(k) = &idempotency_key {
        check_key(k)?;
    }
    if req.start.timestamp_subsec_nanos() != 0 || req.start.timestamp() % 60 != 0 {
        return Err(AppError::field("start", "must be on a whole minute"));
    }
    let hash = request_hash(&state.keys, &req);
    let st = state.clone();
    let who = *who;
    let now = state.now();
    let (row, replayed) = state
        .db
        .write(move |tx| {
            if let Some(key) = &idempotency_key {
                if let Some((stored, id)) = consulting_sessions::idempotent(tx, who.user_id, key)? {
                    if stored != hash {
                        return Err(AppError::Validation {
                            message: "This Idempotency-Key was used for a different request."
                                .into(),
                            fields: [(
                                "Idempotency-Key".to_string(),
                                "already used for a different request".to_string(),
                            )]
                            .into(),
                        });
                    }
                    let row =
                        consulting_sessions::find(tx, &st.keys, id)?.ok_or(AppError::NotFound)?;
                    return Ok((row, true));
                }
            }
            let id = insert_checked(tx, &st, &who, &req, now)?;
            if let Some(key) = &idempotency_key {
                consulting_sessions::save_idempotent(tx, who.user_id, key, &hash, id, now)?;
            }
            let mut row = consulting_sessions::find(tx, &st.keys, id)?.ok_or(AppError::NotFound)?;
            // A priced session reaches the researcher once it is paid for.
            if crate::services::payments::held::on_book(tx, &st, &mut row, now)? {
                notify::session_requested(tx, &st, &row, now)?;
            }
            Ok((row, false))
        })
        .await?;
    if !replayed {
        crate::services::mail::wake(state);
    }
    Ok(Booked {
        session: view(row, Party::Reader, now, &state.config.sessions),
        replayed,
    })
}

/// Checks the researcher, the paper and query, and the slot, then inserts.
fn insert_checked(
    tx: &rusqlite::Transaction<'_>,
    st: &AppState,
    who: &Principal,
    req: &BookRequest,
    now: DateTime<Utc>,
) -> AppResult<ConsultingSessionId> {
    crate::services::accounts::require_verified_in(tx, st, who)?;
    // Only the owner is needed here: not the whole (decrypted) profile.
    let owner = researchers::owner(tx, req.researcher_id)?
        .ok_or_else(|| AppError::field("researcher_id", "no such researcher"))?;
    let Some(owner) = owner else {
        return Err(AppError::conflict(
            "not_bookable",
            "This researcher has not registered yet, so sessions cannot be booked. You can tell them you are interested instead.",
        ));
    };
    if crate::db::repos::users::is_disabled(tx, owner)? {
        return Err(AppError::conflict(
            "not_bookable",
            "This researcher's account is disabled, so sessions cannot be booked now.",
        ));
    }
    if researchers::listing_withdrawn(tx, req.researcher_id)? {
        return Err(AppError::conflict(
            "not_bookable",
            "This researcher is not taking new sessions now.",
        ));
    }
    if owner == who.user_id {
        return Err(AppError::field(
            "researcher_id",
            "you cannot book a session with yourself",
        ));
    }
    if let Some(p) = req.paper_id {
        if !crate::db::repos::papers::exists(tx, p)? {
            return Err(AppError::field("paper_id", "no such paper"));
        }
    }
    if let Some(q) = req.query_id {
        if !queries::is_owned_by(tx, q, who.user_id)? {
            return Err(AppError::field("query_id", "no such question of yours"));
        }
    }
    for id in consulting_sessions::due_expiry_for(tx, req.researcher_id, now)? {
        if let Some(row) = consulting_sessions::find(tx, &st.keys, id)? {
            lifecycle::expire_in(tx, st, &row, None, now)?;
        }
    }
    let loaded = settings::load(tx, &st.config.sessions, req.researcher_id)?;
    let Some(avail) = loaded.availability else {
        return Err(AppError::conflict(
            "not_bookable",
            "This researcher has not published any availability yet.",
        ));
    };
    if !loaded.settings.durations.contains(&req.duration_minutes) {
        return Err(AppError::field(
            "duration_minutes",
            format!(
                "this researcher offers sessions of {:?} minutes",
                loaded.settings.durations
            ),
        ));
    }
    let busy = consulting_sessions::busy(
        tx,
        req.researcher_id,
        req.start - Duration::days(2),
        req.start + Duration::days(3),
        None,
        now,
    )?;
    if !availability::is_bookable(
        &loaded.settings,
        &avail,
        &busy,
        now,
        req.start,
        req.duration_minutes,
    ) {
        return Err(slot_taken());
    }
    let expires_at = (now + Duration::hours(loaded.body.request_ttl_hours)).min(req.start);
    let id = consulting_sessions::insert(
        tx,
        &st.keys,
        &NewSession {
            researcher: req.researcher_id,
            reader: who.user_id,
            paper: req.paper_id,
            query: req.query_id,
            topic: &req.topic,
            start: req.start,
            duration_minutes: req.duration_minutes,
            price_minor: loaded.body.price_minor,
            currency: &loaded.body.currency,
            expires_at,
        },
        now,
    )
    .map_err(|e| match e {
        // The partial unique index on live start times.
        AppError::Conflict { .. } => slot_taken(),
        e => e,
    })?;
    if let Some(q) = req.query_id {
        queries::set_session(tx, q, id)?;
    }
    consulting_sessions::record_event(
        tx,
        id,
        SessionStatus::Requested.as_str(),
        Party::Reader.as_str(),
        now,
    )?;
    Ok(id)
}
