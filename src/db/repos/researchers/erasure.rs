//! Erasing a researcher profile at its person's request
//! (`services::data_rights::erasure`). The row stays, without any personal
//! field, so that sessions, reviews, merges and audit rows that name its
//! id keep a valid reference; every table that holds personal data about
//! the profile (`db::personal_data`) loses it:
//!
//! - deleted: provenance (`researcher_field_sources`), merges into it,
//!   booking settings, availability, rating, invitations (`outreach`, with
//!   their history) and their mail, "wants to consult" marks, open claim
//!   requests and open merge reviews;
//! - its authorships (`paper_researchers`) go, and its places in those
//!   papers' author lists are marked removed (`papers::remove_authors`);
//! - collection bookkeeping forgets it: steps lose the link and what the
//!   provider said, person jobs the name and affiliation searched;
//! - kept, as records of other people: sessions, payments, reviews and
//!   disputes (of a former owner's time), decided claim requests, and the
//!   audit trail.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::db::repos::papers;
use crate::db::ts;
use crate::domain::paper::REMOVED_AUTHOR;
use crate::domain::{PaperId, ResearcherId, UserId};
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

/// What erasing a profile needs to know of it, read in the erasing
/// transaction.
#[derive(Debug, Clone)]
pub struct Target {
    pub owner: Option<UserId>,
    pub erased: bool,
    pub name: String,
    pub affiliation: Option<String>,
    pub orcid: Option<String>,
    pub openalex_id: Option<String>,
    /// The blind index of its address, if it has one.
    pub email_bidx: Option<String>,
}

pub fn target(conn: &Connection, id: ResearcherId) -> AppResult<Option<Target>> {
    Ok(conn
        .prepare_cached(
            "SELECT user_id, erased_at IS NOT NULL, name, affiliation, orcid, openalex_id, email_bidx
               FROM researchers WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Target {
                owner: r.get(0)?,
                erased: r.get(1)?,
                name: r.get(2)?,
                affiliation: r.get(3)?,
                orcid: r.get(4)?,
                openalex_id: r.get(5)?,
                email_bidx: r.get(6)?,
            })
        })
        .optional()?)
}

/// How many rows of each kind went (the audit event's detail: counts,
/// never values).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Erased {
    pub field_sources: usize,
    pub authorships: usize,
    pub merges: usize,
    pub merge_reviews: usize,
    pub booking_settings: usize,
    pub availability: usize,
    pub ratings: usize,
    pub invitations: usize,
    pub mail: usize,
    pub interest: usize,
    pub claim_requests: usize,
    pub collection_steps: usize,
    pub collection_jobs: usize,
}

/// Erases profile `id` in the caller's transaction; answers what went and
/// the papers whose author lists changed (their cached views must go).
pub fn erase(conn: &Connection, id: ResearcherId, now: Time) -> AppResult<(Erased, Vec<PaperId>)> {
    let run = |sql: &str| -> AppResult<usize> { Ok(conn.execute(sql, [id])?) };
    let places: Vec<(PaperId, i64)> = conn
        .prepare("SELECT paper_id, position FROM paper_researchers WHERE researcher_id = ?1")?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let touched = papers::remove_authors(conn, &places, now)?;
    // Evaluated in this order: the mail is found through the invitations.
    let mut e = Erased {
        authorships: run("DELETE FROM paper_researchers WHERE researcher_id = ?1")?,
        mail: run("DELETE FROM mail_outbox WHERE id IN
               (SELECT mail_id FROM outreach WHERE researcher_id = ?1 AND mail_id IS NOT NULL)")?,
        invitations: run("DELETE FROM outreach WHERE researcher_id = ?1")?,
        field_sources: run("DELETE FROM researcher_field_sources WHERE researcher_id = ?1")?,
        merges: run("DELETE FROM researcher_merges WHERE kept_id = ?1")?,
        merge_reviews: run(
            "DELETE FROM merge_reviews WHERE status = 'open' AND (first_id = ?1 OR second_id = ?1)",
        )?,
        booking_settings: run("DELETE FROM researcher_settings WHERE researcher_id = ?1")?,
        availability: run("DELETE FROM availability WHERE researcher_id = ?1")?,
        ratings: run("DELETE FROM researcher_ratings WHERE researcher_id = ?1")?,
        interest: run("DELETE FROM reader_interest WHERE researcher_id = ?1")?,
        claim_requests: run(
            "DELETE FROM claim_requests WHERE researcher_id = ?1 AND status = 'open'",
        )?,
        ..Erased::default()
    };
    // A person job searched for them by name: the job stays (its requester
    // asked for it), without the name.
    e.collection_jobs = run(
        "UPDATE collection_jobs SET name = NULL, affiliation = NULL, dedupe_key = 'person:erased:' || id
          WHERE kind = 'person' AND id IN (SELECT job_id FROM collection_steps WHERE researcher_id = ?1)",
    )?;
    e.collection_steps = run(
        "UPDATE collection_steps SET researcher_id = NULL, detail = NULL WHERE researcher_id = ?1",
    )?;
    conn.execute(
        "UPDATE researchers SET name = ?2, affiliation = NULL, orcid = NULL, openalex_id = NULL,
             email_enc = NULL, email_bidx = NULL, email_quality = NULL, bio = NULL, homepage = NULL,
             works_count = NULL, cited_by_count = NULL, h_index = NULL, topics = '[]',
             recent_works = '[]', publications = '[]', achievements = '[]', edited_fields = '[]',
             timezone = NULL, status = 'opted_out', listing_consent_at = NULL,
             listing_terms_version = NULL, listing_withdrawn_at = NULL, claimed_at = NULL,
             collected_at = NULL, erased_at = ?3, updated_at = ?3
          WHERE id = ?1",
        params![id, REMOVED_AUTHOR, ts(now)],
    )?;
    Ok((e, touched))
}
