-- The durable mail outbox: every message is a row before it is sent.
-- Recipient and content are field-encrypted.

CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    template        TEXT    NOT NULL,
    recipient_enc   TEXT    NOT NULL,
    recipient_bidx  TEXT    NOT NULL,
    -- JSON {subject, text, html, headers: [[name, value]]}, encrypted.
    content_enc     TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'held')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT,
    updated_at      TEXT    NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_template ON mail_outbox (template, id);
