//! Every field-encrypted column, so key rotation can find them all. A later
//! migration that adds an encrypted column adds it here too.

pub struct EncryptedColumn {
    pub table: &'static str,
    pub id_column: &'static str,
    pub column: &'static str,
    /// Associated data the value is bound to.
    pub aad: &'static str,
    /// SQL over the row naming the data subject whose key seals the value
    /// (`'u' || user_id`), NULL where a row has none; `None` for columns
    /// kept under the keyring key: what the institution must keep whoever
    /// it is about (invoices), operational values (meeting links, mail in
    /// flight, which retention purges), and audit IPs written before the
    /// chain hashed a MAC of them.
    pub subject: Option<&'static str>,
}

pub const ENCRYPTED_COLUMNS: &[EncryptedColumn] = &[
    EncryptedColumn {
        table: "claim_requests",
        id_column: "id",
        column: "message_enc",
        aad: "claim_requests.message",
        subject: Some("'u' || user_id"),
    },
    EncryptedColumn {
        table: "users",
        id_column: "id",
        column: "email_enc",
        aad: "users.email",
        // An erased account's placeholder address is no one's.
        subject: Some("CASE WHEN deleted_at IS NULL THEN 'u' || id END"),
    },
    EncryptedColumn {
        table: "paper_queries",
        id_column: "id",
        column: "question_enc",
        aad: "paper_queries.question",
        subject: Some("'u' || user_id"),
    },
    EncryptedColumn {
        table: "audit_log",
        id_column: "id",
        column: "ip_enc",
        aad: "audit_log.ip",
        subject: None,
    },
    EncryptedColumn {
        table: "researchers",
        id_column: "id",
        column: "email_enc",
        aad: "researchers.email",
        subject: Some("'r' || id"),
    },
    EncryptedColumn {
        table: "mail_outbox",
        id_column: "id",
        column: "recipient_enc",
        aad: "mail_outbox.recipient",
        subject: None,
    },
    EncryptedColumn {
        table: "mail_outbox",
        id_column: "id",
        column: "content_enc",
        aad: "mail_outbox.content",
        subject: None,
    },
    EncryptedColumn {
        table: "outreach",
        id_column: "id",
        column: "message_enc",
        aad: "outreach.message",
        subject: Some("'u' || requested_by"),
    },
    EncryptedColumn {
        table: "consulting_sessions",
        id_column: "id",
        column: "topic_enc",
        aad: "consulting_sessions.topic",
        subject: Some("'u' || reader_id"),
    },
    EncryptedColumn {
        table: "consulting_sessions",
        id_column: "id",
        column: "meeting_url_enc",
        aad: "consulting_sessions.meeting_url",
        subject: None,
    },
    EncryptedColumn {
        table: "consulting_sessions",
        id_column: "id",
        column: "meeting_password_enc",
        aad: "consulting_sessions.meeting_password",
        subject: None,
    },
    EncryptedColumn {
        table: "consulting_sessions",
        id_column: "id",
        column: "cancel_reason_enc",
        aad: "consulting_sessions.cancel_reason",
        subject: Some("CASE cancelled_by WHEN 'reader' THEN 'u' || reader_id WHEN 'researcher' THEN 'r' || researcher_id END"),
    },
    EncryptedColumn {
        table: "invoices",
        id_column: "id",
        column: "buyer_enc",
        aad: "invoices.buyer",
        subject: None,
    },
    EncryptedColumn {
        table: "billing_profiles",
        id_column: "user_id",
        column: "details_enc",
        aad: "billing_profiles.details",
        subject: Some("'u' || user_id"),
    },
    EncryptedColumn {
        table: "reviews",
        id_column: "id",
        column: "comment_enc",
        aad: "reviews.comment",
        subject: Some("'u' || author_id"),
    },
    EncryptedColumn {
        table: "reviews",
        id_column: "id",
        column: "reply_enc",
        aad: "reviews.reply",
        subject: Some("'r' || researcher_id"),
    },
    EncryptedColumn {
        table: "reviews",
        id_column: "id",
        column: "moderation_note_enc",
        aad: "reviews.moderation_note",
        subject: None,
    },
    EncryptedColumn {
        table: "review_reports",
        id_column: "rowid",
        column: "reason_enc",
        aad: "review_reports.reason",
        subject: Some("'u' || reporter_id"),
    },
    EncryptedColumn {
        table: "disputes",
        id_column: "id",
        column: "description_enc",
        aad: "disputes.description",
        subject: Some("'u' || opener_id"),
    },
    EncryptedColumn {
        table: "disputes",
        id_column: "id",
        column: "resolution_note_enc",
        aad: "disputes.resolution_note",
        subject: None,
    },
    EncryptedColumn {
        table: "dispute_messages",
        id_column: "id",
        column: "text_enc",
        aad: "dispute_messages.text",
        subject: Some("'u' || author_id"),
    },
];

/// Values of `col` under a keyring key (`v1:`) other than the one whose
/// ciphertexts start with `prefix` (`v1:<key id>:`). Values under a
/// subject key (`v2:`) are not the keyring's to rotate.
pub fn count_not_under(
    conn: &rusqlite::Connection,
    col: &EncryptedColumn,
    prefix: &str,
) -> crate::error::AppResult<usize> {
    let n: i64 = conn.query_row(
        &format!(
            "SELECT COUNT(*) FROM {t} WHERE substr({c}, 1, 3) = 'v1:' AND substr({c}, 1, ?1) != ?2",
            t = col.table,
            c = col.column
        ),
        rusqlite::params![prefix.len() as i64, prefix],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

/// Up to `limit` (row id, stored value) pairs not under `prefix`.
pub fn batch_not_under(
    conn: &rusqlite::Connection,
    col: &EncryptedColumn,
    prefix: &str,
    limit: usize,
) -> crate::error::AppResult<Vec<(i64, String)>> {
    Ok(conn
        .prepare(&format!(
            "SELECT {id}, {c} FROM {t} WHERE substr({c}, 1, 3) = 'v1:' AND substr({c}, 1, ?1) != ?2 LIMIT ?3",
            id = col.id_column,
            c = col.column,
            t = col.table
        ))?
        .query_map(
            rusqlite::params![prefix.len() as i64, prefix, limit as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<Result<_, _>>()?)
}

/// Replaces one stored value (re-encrypted by the caller).
pub fn replace(
    conn: &rusqlite::Connection,
    col: &EncryptedColumn,
    id: i64,
    value: &str,
) -> crate::error::AppResult<()> {
    conn.prepare_cached(&format!(
        "UPDATE {t} SET {c} = ?2 WHERE {id} = ?1",
        t = col.table,
        c = col.column,
        id = col.id_column
    ))?
    .execute(rusqlite::params![id, value])?;
    Ok(())
}

/// Every stored value of `col`.
pub fn all_values(
    conn: &rusqlite::Connection,
    col: &EncryptedColumn,
) -> crate::error::AppResult<Vec<String>> {
    Ok(conn
        .prepare(&format!(
            "SELECT {c} FROM {t} WHERE {c} IS NOT NULL",
            c = col.column,
            t = col.table
        ))?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Values of `col` still under a keyring key although the row names a
/// data subject: what `keys migrate-subjects` moves to subject keys.
pub fn count_unmigrated(
    conn: &rusqlite::Connection,
    col: &EncryptedColumn,
) -> crate::error::AppResult<usize> {
    let Some(subject) = col.subject else {
        return Ok(0);
    };
    let n: i64 = conn.query_row(
        &format!(
            "SELECT COUNT(*) FROM {t} WHERE substr({c}, 1, 3) = 'v1:' AND ({subject}) IS NOT NULL",
            t = col.table,
            c = col.column
        ),
        [],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

/// Up to `limit` (row id, stored value, subject) of those values.
pub fn batch_unmigrated(
    conn: &rusqlite::Connection,
    col: &EncryptedColumn,
    limit: usize,
) -> crate::error::AppResult<Vec<(i64, String, String)>> {
    let Some(subject) = col.subject else {
        return Ok(Vec::new());
    };
    Ok(conn
        .prepare(&format!(
            "SELECT {id}, {c}, {subject} FROM {t}
              WHERE substr({c}, 1, 3) = 'v1:' AND ({subject}) IS NOT NULL LIMIT ?1",
            id = col.id_column,
            c = col.column,
            t = col.table
        ))?
        .query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?)
}

/// Columns that may hold values under a subject of this kind (`u`, `r`).
fn columns_of_kind(kind: char) -> impl Iterator<Item = &'static EncryptedColumn> {
    ENCRYPTED_COLUMNS.iter().filter(move |c| {
        c.subject
            .is_some_and(|s| s.contains(&format!("'{kind}' ||")))
    })
}

/// The rows of `col` that name subject `?1` and whose value starts with
/// `?3` (of length `?2`): a subject's key prefix, `v2:<subject>:`.
fn sealed_under(col: &EncryptedColumn) -> String {
    format!(
        "({s}) = ?1 AND substr({c}, 1, ?2) = ?3",
        s = col.subject.unwrap_or("NULL"),
        c = col.column
    )
}

/// Every (column, row id, stored value) of the rows that now name
/// `subject` whose value is sealed under `sealed_under`'s key (the same
/// subject, or one merged into it).
pub fn values_of_subject(
    conn: &rusqlite::Connection,
    subject: &str,
    sealed_under_key: &str,
) -> crate::error::AppResult<Vec<(&'static EncryptedColumn, i64, String)>> {
    let prefix = format!("v2:{sealed_under_key}:");
    let kind = subject.chars().next().unwrap_or('?');
    let mut out = Vec::new();
    for col in columns_of_kind(kind) {
        let rows: Vec<(i64, String)> = conn
            .prepare(&format!(
                "SELECT {id}, {c} FROM {t} WHERE {w}",
                id = col.id_column,
                c = col.column,
                t = col.table,
                w = sealed_under(col),
            ))?
            .query_map(
                rusqlite::params![subject, prefix.len() as i64, prefix],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect::<Result<_, _>>()?;
        out.extend(rows.into_iter().map(|(id, v)| (col, id, v)));
    }
    Ok(out)
}

/// After `from` was merged into `to` (same person), reseals `to`'s rows
/// still under `from`'s key with `to`'s, so erasing `to` shreds them too.
pub fn reseal_merged(
    conn: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    from: crate::crypto::Subject,
    to: crate::crypto::Subject,
) -> crate::error::AppResult<usize> {
    let (from, to) = (from.to_string(), to.to_string());
    let rows = values_of_subject(conn, &to, &from)?;
    for (col, id, stored) in &rows {
        let plain = crate::db::repos::decrypt(keys, col.aad, stored)?;
        replace(conn, col, *id, &keys.reseal_for(&to, col.aad, &plain))?;
    }
    Ok(rows.len())
}

/// Blanks every value sealed under `subject`'s key in the rows that name
/// it: NULL where the column allows it, else an empty value under the
/// keyring key. One statement per column. Erasure runs it before
/// destroying the key, so the live database holds nothing of theirs that
/// would no longer decrypt.
pub fn blank_subject(
    conn: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    subject: &str,
) -> crate::error::AppResult<usize> {
    let prefix = format!("v2:{subject}:");
    let kind = subject.chars().next().unwrap_or('?');
    let mut blanked = 0;
    for col in columns_of_kind(kind) {
        let not_null: bool = conn
            .prepare_cached("SELECT \"notnull\" FROM pragma_table_info(?1) WHERE name = ?2")?
            .query_row([col.table, col.column], |r| r.get(0))?;
        let blank = not_null.then(|| keys.encrypt(col.aad, ""));
        blanked += conn.execute(
            &format!(
                "UPDATE {t} SET {c} = ?4 WHERE {w}",
                t = col.table,
                c = col.column,
                w = sealed_under(col),
            ),
            rusqlite::params![subject, prefix.len() as i64, prefix, blank],
        )?;
    }
    Ok(blanked)
}
