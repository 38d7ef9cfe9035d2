-- Identity: verified e-mail for accounts, who set a profile field (admins
-- set e-mails by hand), requests to claim a profile, merges an admin must
-- decide, and the number of authors each collection job covers (readers'
-- daily limit counts authors).

-- Accounts made by an operator (`colloquy user create`, the setup link)
-- count as verified, as they do from now on.
UPDATE users SET email_verified_at = created_at
 WHERE email_verified_at IS NULL
   AND id IN (SELECT CAST(substr(target, 6) AS INTEGER) FROM audit_log
               WHERE action IN ('user.created_by_cli', 'auth.setup_admin') AND target LIKE 'user:%');

-- Single-use e-mail verification links, bound to the address they were
-- sent to (its blind index). Only the SHA-256 of the token is stored.
CREATE TABLE email_verifications (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email_bidx TEXT    NOT NULL,
    -- `register` (sent with the registration) or `resend` (asked for; limited per hour).
    kind       TEXT    NOT NULL DEFAULT 'register' CHECK (kind IN ('register', 'resend')),
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    used_at    TEXT
);
CREATE INDEX email_verifications_user ON email_verifications (user_id, created_at);

-- The account that set a field by hand (an admin), when one did.
ALTER TABLE researcher_field_sources ADD COLUMN set_by INTEGER;

-- "This is me": a signed-in account asks to own a profile; an admin decides.
CREATE TABLE claim_requests (
    id            INTEGER PRIMARY KEY,
    researcher_id INTEGER NOT NULL REFERENCES researchers (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_enc   TEXT,
    status        TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'approved', 'refused')),
    decided_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at    TEXT    NOT NULL,
    decided_at    TEXT
);
CREATE INDEX claim_requests_open ON claim_requests (status, id);
CREATE UNIQUE INDEX claim_requests_one_open ON claim_requests (researcher_id, user_id) WHERE status = 'open';

-- Two claimed profiles that look like one person are never merged by
-- collection: an admin is asked. No foreign keys: a decided review stays on
-- record after the merge deletes one of the two.
CREATE TABLE merge_reviews (
    id           INTEGER PRIMARY KEY,
    first_id     INTEGER NOT NULL,
    second_id    INTEGER NOT NULL,
    reason       TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'merged', 'dismissed')),
    created_at   TEXT    NOT NULL,
    decided_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    decided_at   TEXT
);
CREATE UNIQUE INDEX merge_reviews_pair ON merge_reviews (first_id, second_id) WHERE status = 'open';

-- Claims wait for an explicit "link this profile" now, never for a log-in.
DROP TABLE pending_claims;

ALTER TABLE collection_jobs ADD COLUMN author_count INTEGER NOT NULL DEFAULT 0;
