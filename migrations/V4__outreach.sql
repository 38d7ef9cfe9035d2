-- Outreach to researchers: invitations, readers' interest, single-use
-- links, the suppression list (opt-out) and profile claims.

ALTER TABLE researchers ADD COLUMN status TEXT NOT NULL DEFAULT 'collected'
    CHECK (status IN ('collected', 'invited', 'registered', 'opted_out'));
ALTER TABLE researchers ADD COLUMN timezone TEXT;
-- Consent to be listed as bookable, with the terms version it was given under.
ALTER TABLE researchers ADD COLUMN listing_consent_at TEXT;
ALTER TABLE researchers ADD COLUMN listing_terms_version TEXT;

CREATE TABLE outreach (
    id            INTEGER PRIMARY KEY,
    researcher_id INTEGER NOT NULL REFERENCES researchers (id) ON DELETE CASCADE,
    paper_id      INTEGER REFERENCES papers (id) ON DELETE SET NULL,
    requested_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- invitation: the registration e-mail; interest_notice: a registered
    -- researcher is told that readers want to consult them.
    kind          TEXT    NOT NULL CHECK (kind IN ('invitation', 'interest_notice')),
    status        TEXT    NOT NULL
        CHECK (status IN ('queued', 'sent', 'opened', 'registered', 'opted_out', 'failed')),
    mail_id       INTEGER REFERENCES mail_outbox (id) ON DELETE SET NULL,
    message_enc   TEXT,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX outreach_researcher ON outreach (researcher_id, created_at);
CREATE INDEX outreach_mail ON outreach (mail_id);

-- The history of each invitation: queued, sent, opened, registered, opted_out, failed.
CREATE TABLE outreach_events (
    id          INTEGER PRIMARY KEY,
    outreach_id INTEGER NOT NULL REFERENCES outreach (id) ON DELETE CASCADE,
    event       TEXT    NOT NULL,
    at          TEXT    NOT NULL
);
CREATE INDEX outreach_events_outreach ON outreach_events (outreach_id, id);

-- Readers who asked to consult a researcher (the demand).
CREATE TABLE reader_interest (
    researcher_id INTEGER NOT NULL REFERENCES researchers (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id      INTEGER REFERENCES papers (id) ON DELETE SET NULL,
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (researcher_id, user_id)
);

-- Single-use link ids (JWT `jti`): a row means the link was used.
CREATE TABLE used_tokens (
    jti     TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    used_at TEXT NOT NULL
);

-- Addresses (blind indexes) that opted out; every send checks this list.
CREATE TABLE suppressions (
    email_bidx TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- A registration whose e-mail already has an account: the profile is
-- linked when that account next logs in.
CREATE TABLE pending_claims (
    researcher_id INTEGER PRIMARY KEY REFERENCES researchers (id) ON DELETE CASCADE,
    email_bidx    TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);
CREATE INDEX pending_claims_email ON pending_claims (email_bidx);
