//! A researcher's outreach state: status, the account that claimed the
//! profile, listing consent, the researcher's own edits, and opt-out.

use rusqlite::{params, Connection, OptionalExtension};

use super::{email_index, record_source, record_source_by, EMAIL_AAD};
use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::researcher::{Field, Provenance};
use crate::domain::Email;
use crate::domain::{ResearcherId, ResearcherStatus, UserId};
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

/// The outreach state of a researcher: (status, linked user).
pub fn status_of(
    conn: &Connection,
    id: ResearcherId,
) -> AppResult<Option<(ResearcherStatus, Option<UserId>)>> {
    Ok(conn
        .query_row(
            "SELECT status, user_id FROM researchers WHERE id = ?1 AND erased_at IS NULL",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

pub fn set_status(
    conn: &Connection,
    id: ResearcherId,
    status: ResearcherStatus,
    now: Time,
) -> AppResult<()> {
    conn.execute(
        "UPDATE researchers SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, status, ts(now)],
    )?;
    Ok(())
}

/// The e-mail's blind index, if one is stored.
pub fn email_bidx(conn: &Connection, id: ResearcherId) -> AppResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT email_bidx FROM researchers WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// Erases the collected e-mail and its provenance (opt-out).
pub fn erase_email(conn: &Connection, id: ResearcherId, now: Time) -> AppResult<()> {
    conn.execute(
        "UPDATE researchers SET email_enc = NULL, email_bidx = NULL, email_quality = NULL, updated_at = ?2 WHERE id = ?1",
        params![id, ts(now)],
    )?;
    conn.execute(
        "DELETE FROM researcher_field_sources WHERE researcher_id = ?1 AND field = 'email'",
        [id],
    )?;
    Ok(())
}

/// Links an unclaimed profile to its owner's account; false when the
/// profile has an owner already (a claim never replaces one).
pub fn claim(conn: &Connection, id: ResearcherId, user: UserId, now: Time) -> AppResult<bool> {
    let now = ts(now);
    let n = conn.execute(
        "UPDATE researchers SET user_id = ?2, claimed_at = ?3, status = 'registered', updated_at = ?3
          WHERE id = ?1 AND user_id IS NULL",
        params![id, user, now],
    )?;
    Ok(n == 1)
}

/// Gives the profile to `user` whoever owned it (an admin's audited
/// decision; the caller read the previous owner). A previous owner's
/// withdrawal of the listing does not bind a new owner.
pub fn set_owner(conn: &Connection, id: ResearcherId, user: UserId, now: Time) -> AppResult<()> {
    let now = ts(now);
    conn.execute(
        "UPDATE researchers SET user_id = ?2, claimed_at = ?3,
             status = CASE WHEN status = 'opted_out' THEN status ELSE 'registered' END, updated_at = ?3,
             listing_withdrawn_at = CASE WHEN user_id IS ?2 THEN listing_withdrawn_at END
          WHERE id = ?1",
        params![id, user, now],
    )?;
    Ok(())
}

/// Sets the e-mail by hand (an admin): provenance `admin` with the admin's
/// id, and marked edited, so collection never overwrites it.
pub fn set_email_by_admin(
    conn: &Connection,
    keys: &Keyring,
    id: ResearcherId,
    email: &Email,
    admin: UserId,
    now: Time,
) -> AppResult<()> {
    let now_s = ts(now);
    conn.execute(
        "UPDATE researchers SET email_enc = ?2, email_bidx = ?3, email_quality = NULL, updated_at = ?4 WHERE id = ?1",
        params![id, keys.encrypt_for(id, EMAIL_AAD, email.as_str()), email_index(keys, email), now_s],
    )?;
    let p = Provenance {
        provider: "admin".into(),
        source_url: None,
    };
    record_source_by(conn, id, Field::Email, &p, &now_s, Some(admin))?;
    mark_edited(conn, id, &[Field::Email])
}

/// The profile that has this e-mail (blind index), if any.
pub fn with_email(conn: &Connection, bidx: &str) -> AppResult<Option<ResearcherId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM researchers WHERE email_bidx = ?1",
            [bidx],
            |r| r.get(0),
        )
        .optional()?)
}

/// How far the instance is from its first booking: (papers, collected
/// profiles, profiles with an owner, owned profiles with published times).
pub fn setup_counts(conn: &Connection) -> AppResult<(i64, i64, i64, i64)> {
    Ok(conn.query_row(
        "SELECT (SELECT COUNT(*) FROM papers), (SELECT COUNT(*) FROM researchers),
                (SELECT COUNT(*) FROM researchers WHERE user_id IS NOT NULL),
                (SELECT COUNT(*) FROM researchers r JOIN availability a ON a.researcher_id = r.id
                  WHERE r.user_id IS NOT NULL)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?)
}

/// Takes the owner off a profile (an admin merges it into another one).
pub fn release_owner(conn: &Connection, id: ResearcherId, now: Time) -> AppResult<()> {
    conn.execute(
        "UPDATE researchers SET user_id = NULL, claimed_at = NULL, updated_at = ?2 WHERE id = ?1",
        params![id, ts(now)],
    )?;
    Ok(())
}

/// Records the consent to be listed as bookable, under a terms version
/// (and ends a withdrawal). The caller appends the owner's ledger row.
pub fn set_listing_consent(
    conn: &Connection,
    id: ResearcherId,
    terms_version: &str,
    timezone: Option<&str>,
    now: Time,
) -> AppResult<()> {
    conn.execute(
        "UPDATE researchers SET listing_consent_at = ?2, listing_terms_version = ?3, listing_withdrawn_at = NULL,
             timezone = COALESCE(?4, timezone) WHERE id = ?1",
        params![id, ts(now), terms_version, timezone],
    )?;
    Ok(())
}

/// The owner withdrew the consent to be listed: the profile leaves search
/// and booking at once (`listing::BOOKABLE`).
pub fn withdraw_listing(conn: &Connection, id: ResearcherId, now: Time) -> AppResult<()> {
    conn.execute(
        "UPDATE researchers SET listing_consent_at = NULL, listing_withdrawn_at = ?2 WHERE id = ?1",
        params![id, ts(now)],
    )?;
    Ok(())
}

/// Whether the owner withdrew the listing.
pub fn listing_withdrawn(conn: &Connection, id: ResearcherId) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT listing_withdrawn_at IS NOT NULL FROM researchers WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// Adds fields to `edited_fields`: collection will never write them again.
pub fn mark_edited(conn: &Connection, id: ResearcherId, fields: &[Field]) -> AppResult<()> {
    let current: String = conn.query_row(
        "SELECT edited_fields FROM researchers WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let mut edited: Vec<String> = serde_json::from_str(&current).unwrap_or_default();
    for f in fields {
        if !edited.iter().any(|e| e == f.as_str()) {
            edited.push(f.as_str().to_string());
        }
    }
    conn.execute(
        "UPDATE researchers SET edited_fields = ?2 WHERE id = ?1",
        params![id, serde_json::json!(edited).to_string()],
    )?;
    Ok(())
}

/// Clears a field the researcher removed (an empty value never comes from
/// collection, so `apply` cannot do this).
pub fn clear_field(conn: &Connection, id: ResearcherId, field: Field, now: Time) -> AppResult<()> {
    let value = if field.is_list() { "'[]'" } else { "NULL" };
    if matches!(field, Field::Name | Field::Email) {
        return Ok(());
    }
    conn.execute(
        &format!(
            "UPDATE researchers SET {} = {value}, updated_at = ?2 WHERE id = ?1",
            field.column()
        ),
        params![id, ts(now)],
    )?;
    record_source(
        conn,
        id,
        field,
        &Provenance {
            provider: "researcher".into(),
            source_url: None,
        },
        &ts(now),
    )?;
    Ok(())
}

/// The profile an account claimed, if any.
pub fn by_user(conn: &Connection, user: UserId) -> AppResult<Option<ResearcherId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM researchers WHERE user_id = ?1",
            [user],
            |r| r.get(0),
        )
        .optional()?)
}

/// Whether the researcher is linked to the paper as one of its authors.
pub fn is_author_of(
    conn: &Connection,
    id: ResearcherId,
    paper: crate::domain::PaperId,
) -> AppResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM paper_researchers WHERE researcher_id = ?1 AND paper_id = ?2)",
        params![id, paper],
        |r| r.get(0),
    )?)
}

/// The account that claimed the profile: `None` when there is no such
/// researcher, `Some(None)` while nobody claimed it.
pub fn owner(conn: &Connection, id: ResearcherId) -> AppResult<Option<Option<UserId>>> {
    Ok(conn
        .prepare_cached("SELECT user_id FROM researchers WHERE id = ?1 AND erased_at IS NULL")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}
