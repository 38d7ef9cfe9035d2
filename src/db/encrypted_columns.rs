//! Every field-encrypted column, so key rotation can find them all. A later
//! migration that adds an encrypted column adds it here too.

pub struct EncryptedColumn {
    pub table: &'static str,
    pub id_column: &'static str,
    pub column: &'static str,
    /// Associated data the value is bound to.
    pub aad: &'static str,
}

pub const ENCRYPTED_COLUMNS: &[EncryptedColumn] = &[
    EncryptedColumn {
        table: "claim_requests",
        id_column: "id",
        column: "message_enc",
        aad: "claim_requests.message",
    },
    EncryptedColumn {
        table: "users",
        id_column: "id",
        column: "email_enc",
        aad: "users.email",
    },
    EncryptedColumn {
        table: "paper_queries",
        id_column: "id",
        column: "question_enc",
        aad: "paper_queries.question",
    },
    EncryptedColumn {
        table: "audit_log",
        id_column: "id",
        column: "ip_enc",
        aad: "audit_log.ip",
    },
    EncryptedColumn {
        table: "researchers",
        id_column: "id",
        column: "email_enc",
        aad: "researchers.email",
    },
    EncryptedColumn {
        table: "mail_outbox",
        id_column: "id",
        column: "recipient_enc",
        aad: "mail_outbox.recipient",
    },
    EncryptedColumn {
        table: "mail_outbox",
        id_column: "id",
        column: "content_enc",
        aad: "mail_outbox.content",
    },
    EncryptedColumn {
        table: "outreach",
        id_column: "id",
        column: "message_enc",
        aad: "outreach.message",
    },
    EncryptedColumn {
        table: "consulting_sessions",
        id_column: "id",
        column: "topic_enc",
        aad: "consulting_sessions.topic",
    },
    EncryptedColumn {
        table: "consulting_sessions",
        id_column: "id",
        column: "meeting_url_enc",
        aad: "consulting_sessions.meeting_url",
    },
    EncryptedColumn {
        table: "consulting_sessions",
        id_column: "id",
        column: "meeting_password_enc",
        aad: "consulting_sessions.meeting_password",
    },
    EncryptedColumn {
        table: "consulting_sessions",
        id_column: "id",
        column: "cancel_reason_enc",
        aad: "consulting_sessions.cancel_reason",
    },
    EncryptedColumn {
        table: "invoices",
        id_column: "id",
        column: "buyer_enc",
        aad: "invoices.buyer",
    },
    EncryptedColumn {
        table: "billing_profiles",
        id_column: "user_id",
        column: "details_enc",
        aad: "billing_profiles.details",
    },
    EncryptedColumn {
        table: "reviews",
        id_column: "id",
        column: "comment_enc",
        aad: "reviews.comment",
    },
    EncryptedColumn {
        table: "reviews",
        id_column: "id",
        column: "reply_enc",
        aad: "reviews.reply",
    },
    EncryptedColumn {
        table: "reviews",
        id_column: "id",
        column: "moderation_note_enc",
        aad: "reviews.moderation_note",
    },
    EncryptedColumn {
        table: "review_reports",
        id_column: "rowid",
        column: "reason_enc",
        aad: "review_reports.reason",
    },
    EncryptedColumn {
        table: "disputes",
        id_column: "id",
        column: "description_enc",
        aad: "disputes.description",
    },
    EncryptedColumn {
        table: "disputes",
        id_column: "id",
        column: "resolution_note_enc",
        aad: "disputes.resolution_note",
    },
    EncryptedColumn {
        table: "dispute_messages",
        id_column: "id",
        column: "text_enc",
        aad: "dispute_messages.text",
    },
];

/// Values of `col` not encrypted under the key whose ciphertexts start
/// with `prefix` (`v1:<key id>:`).
pub fn count_not_under(
    conn: &rusqlite::Connection,
    col: &EncryptedColumn,
    prefix: &str,
) -> crate::error::AppResult<usize> {
    let n: i64 = conn.query_row(
        &format!(
            "SELECT COUNT(*) FROM {t} WHERE {c} IS NOT NULL AND substr({c}, 1, ?1) != ?2",
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
            "SELECT {id}, {c} FROM {t} WHERE {c} IS NOT NULL AND substr({c}, 1, ?1) != ?2 LIMIT ?3",
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
