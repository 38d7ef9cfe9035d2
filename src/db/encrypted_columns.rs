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
];
