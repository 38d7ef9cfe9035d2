//! Writes the planned sessions told up to now, in batches of one
//! transaction each: the session in its final state, its history, its
//! payment, and a review (with the researcher's rating kept in step as
//! `services::reviews` keeps it). The ledger rows are handed back, to be
//! written in time order with the subscription charges (`ledger`).

use std::sync::Arc;

use chrono::Duration;

use super::calendar::Planned;
use super::ledger::Movement;
use super::people::{People, PLACES};
use super::story::{self, Rules};
use super::write_people::Ids;
use super::{words, ScaleReport, Time, SESSION_BATCH};
use crate::crypto::Keyring;
use crate::db::repos::reviews::{self, NewReview, Side};
use crate::db::repos::{consulting_sessions, generated};
use crate::domain::{ConsultingSessionId, ReviewStatus, SessionStatus};
use crate::error::AppResult;
use crate::state::AppState;

/// What every batch needs.
struct Context {
    keys: Arc<Keyring>,
    people: Arc<People>,
    ids: Arc<Ids>,
    rules: Rules,
    /// `[sessions] reminder_minutes`: reminders already due were sent.
    reminders: Vec<i64>,
    tag: i64,
    now: Time,
}

/// Writes the sessions; returns the counts and the money movements.
pub async fn write(
    state: &AppState,
    planned: Vec<Planned>,
    people: &Arc<People>,
    ids: &Arc<Ids>,
    rules: Rules,
    (tag, now): (i64, Time),
    progress: &impl Fn(&super::Step),
) -> AppResult<(ScaleReport, Vec<Movement>)> {
    let total = planned.len();
    let cx = Arc::new(Context {
        keys: state.keys.clone(),
        people: people.clone(),
        ids: ids.clone(),
        rules,
        reminders: state.config.sessions.reminder_minutes.clone(),
        tag,
        now,
    });
    let mut totals = ScaleReport::default();
    let mut movements = Vec::new();
    let mut rest = planned.into_iter();
    loop {
        let batch: Vec<Planned> = rest.by_ref().take(SESSION_BATCH).collect();
        if batch.is_empty() {
            break;
        }
        let cx = cx.clone();
        let (done, moved) = state.db.write(move |tx| batch_in(tx, &cx, &batch)).await?;
        totals.absorb(&done);
        movements.extend(moved);
        progress(&super::Step::of("sessions", totals.sessions, total));
    }
    Ok((totals, movements))
}

fn batch_in(
    tx: &rusqlite::Transaction<'_>,
    cx: &Context,
    batch: &[Planned],
) -> AppResult<(ScaleReport, Vec<Movement>)> {
    let first = generated::next_session_id(tx)?;
    let mut totals = ScaleReport::default();
    let mut moved = Vec::new();
    for (id, p) in (first..).zip(batch) {
        session_in(tx, cx, p, ConsultingSessionId(id), &mut totals, &mut moved)?;
    }
    Ok((totals, moved))
}

fn session_in(
    tx: &rusqlite::Transaction<'_>,
    cx: &Context,
    p: &Planned,
    id: ConsultingSessionId,
    totals: &mut ScaleReport,
    moved: &mut Vec<Movement>,
) -> AppResult<()> {
    let who = &cx.people.researchers[p.researcher];
    let currency = PLACES[who.place].currency;
    let (researcher, reader) = (cx.ids.researchers[p.researcher], cx.ids.readers[p.reader]);
    let s = story::tell(p, who.price_minor, currency, &cx.rules, cx.now);
    let url = s.accepted.then(|| {
        cx.rules
            .link_template
            .replace("{room}", &format!("{:016x}", p.noise))
            .replace("{session_id}", &id.to_string())
    });
    let reason = words::CANCEL_REASONS[(p.noise % words::CANCEL_REASONS.len() as u64) as usize];
    generated::insert_session(
        tx,
        &cx.keys,
        &generated::Session {
            id,
            researcher,
            reader,
            paper: p.paper.map(|i| cx.ids.papers[i]),
            topic: words::TOPICS[p.topic],
            status: s.status,
            start: p.start,
            duration_minutes: p.minutes,
            price_minor: who.price_minor,
            currency,
            expires_at: p.expires,
            meeting_url: url.as_deref(),
            ics_sequence: i64::from(s.accepted && s.cancelled_by.is_some()),
            cancelled: s.cancelled_by.map(|by| (by.as_str(), reason)),
            no_show_party: s.no_show.map(|a| a.as_str()),
            created_at: p.created,
            updated_at: s.updated,
        },
    )?;
    for e in &s.events {
        consulting_sessions::record_event(tx, id, &e.name, e.actor, e.at)?;
    }
    totals.sessions += 1;
    totals.events += s.events.len();
    reminders_in(tx, cx, p, &s, id)?;
    if let Some(m) = &s.money {
        let intent = format!("pi_scale{}_{}", cx.tag, id.0);
        generated::insert_payment(
            tx,
            &generated::Payment {
                session: id,
                user: reader,
                intent_id: m.intent.then_some(intent.as_str()),
                status: m.status,
                amount_minor: m.amount,
                tax_minor: m.tax,
                currency,
                tax: m.rate.as_ref().map(|r| (r.name.as_str(), r.basis_points)),
                refunded_minor: m.refunded,
                created_at: p.created,
                updated_at: m.updated,
            },
        )?;
        totals.payments += 1;
        for e in &m.entries {
            let stripe_ref = match e.kind {
                "refund" => format!("re_scale{}_{}", cx.tag, id.0),
                _ => intent.clone(),
            };
            moved.push(Movement::of_session(e, reader, id, currency, stripe_ref));
        }
    }
    if let (SessionStatus::Completed, Some(r)) = (s.status, &p.review) {
        review_in(tx, &cx.keys, r, (id, researcher, reader))?;
        totals.reviews += 1;
    }
    Ok(())
}

/// The reminders the sessions job sent for an upcoming accepted session
/// (each offset that is due, once its acceptance allowed it).
fn reminders_in(
    tx: &rusqlite::Transaction<'_>,
    cx: &Context,
    p: &Planned,
    s: &story::Story,
    id: ConsultingSessionId,
) -> AppResult<()> {
    let accepted = s.events.iter().find(|e| e.name == "accepted");
    let (SessionStatus::Accepted, Some(accepted)) = (s.status, accepted) else {
        return Ok(());
    };
    if p.start <= cx.now {
        return Ok(());
    }
    for &offset in &cx.reminders {
        let due = p.start - Duration::minutes(offset);
        if due <= cx.now {
            consulting_sessions::mark_reminded(tx, id, offset, p.start, due.max(accepted.at))?;
        }
    }
    Ok(())
}

/// A reader's review; published unless it is one star without a word
/// (the rules hold those for a moderator).
fn review_in(
    tx: &rusqlite::Transaction<'_>,
    keys: &Keyring,
    r: &super::fates::Review,
    (session, researcher, reader): (
        ConsultingSessionId,
        crate::domain::ResearcherId,
        crate::domain::UserId,
    ),
) -> AppResult<()> {
    let published = r.rating > 1 || r.comment.is_some();
    let (status, rule) = if published {
        (ReviewStatus::Published, None)
    } else {
        (ReviewStatus::Held, Some("one_star_without_comment"))
    };
    let id = reviews::insert(
        tx,
        keys,
        &NewReview {
            session_id: session,
            side: Side::Reader,
            author_id: reader,
            researcher_id: researcher,
            reader_id: reader,
            rating: r.rating,
            comment: r.comment.map(|c| words::COMMENTS[c]),
            status,
            held_rule: rule,
        },
        r.at,
    )?;
    if !published {
        return Ok(());
    }
    reviews::count_rating(tx, researcher, r.rating, 1)?;
    if let Some((reply, at)) = r.reply {
        let text = words::REPLIES[reply];
        reviews::set_reply(tx, keys, id, text, ReviewStatus::Published, None, at)?;
    }
    Ok(())
}
