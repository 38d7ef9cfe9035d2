-- Reviews of completed sessions. `side` says who wrote it: 'reader' (of the
-- researcher; these make the public rating) or 'researcher' (of the reader,
-- with [reviews] two_way; shown only to admins and to researchers asked to
-- accept that reader). The comment, the answer and moderation reasons are
-- free text, so they are encrypted.
CREATE TABLE reviews (
    id                  INTEGER PRIMARY KEY,
    session_id          INTEGER NOT NULL REFERENCES consulting_sessions (id) ON DELETE CASCADE,
    side                TEXT    NOT NULL CHECK (side IN ('reader', 'researcher')),
    author_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    researcher_id       INTEGER NOT NULL REFERENCES researchers (id) ON DELETE CASCADE,
    reader_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rating              INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment_enc         TEXT,
    status              TEXT    NOT NULL CHECK (status IN ('published', 'held', 'hidden', 'removed')),
    -- Why it was held: a services::reviews::rules::HoldRule, or 'reports'.
    held_rule           TEXT,
    -- The researcher's one answer, moderated like the review.
    reply_enc           TEXT,
    reply_status        TEXT CHECK (reply_status IN ('published', 'held', 'hidden', 'removed')),
    reply_held_rule     TEXT,
    replied_at          TEXT,
    moderation_note_enc TEXT,
    moderated_by        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    moderated_at        TEXT,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    UNIQUE (session_id, side)
);
-- The public list: a researcher's published reviews, newest first.
CREATE INDEX reviews_public ON reviews (researcher_id, id DESC)
    WHERE status = 'published' AND side = 'reader';
CREATE INDEX reviews_queue ON reviews (status, id);
CREATE INDEX reviews_reader ON reviews (reader_id, side);

-- Reports of published reviews; one per reporter. A report is open until
-- an admin moderates the review.
CREATE TABLE review_reports (
    review_id   INTEGER NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    reporter_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason_enc  TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    resolved_at TEXT,
    PRIMARY KEY (review_id, reporter_id)
);

-- A researcher's published reader reviews, kept in step in the same
-- transaction as every publish, hide, remove and edit.
CREATE TABLE researcher_ratings (
    researcher_id INTEGER PRIMARY KEY REFERENCES researchers (id) ON DELETE CASCADE,
    count         INTEGER NOT NULL DEFAULT 0,
    total         INTEGER NOT NULL DEFAULT 0,
    r1            INTEGER NOT NULL DEFAULT 0,
    r2            INTEGER NOT NULL DEFAULT 0,
    r3            INTEGER NOT NULL DEFAULT 0,
    r4            INTEGER NOT NULL DEFAULT 0,
    r5            INTEGER NOT NULL DEFAULT 0
);

-- Mail about reviews a person may turn off: a researcher's notice of each
-- new published review, a reader's reminder to review.
ALTER TABLE users ADD COLUMN review_mail INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN review_reminders INTEGER NOT NULL DEFAULT 1;
-- When the reader was reminded to review (once per session).
ALTER TABLE consulting_sessions ADD COLUMN review_reminded_at TEXT;

-- Disputes of a session's outcome, opened by a party (or by Stripe for a
-- chargeback), resolved by an admin.
CREATE TABLE disputes (
    id                  INTEGER PRIMARY KEY,
    session_id          INTEGER NOT NULL REFERENCES consulting_sessions (id) ON DELETE CASCADE,
    kind                TEXT    NOT NULL CHECK (kind IN ('no_show', 'quality', 'billing', 'review')),
    review_id           INTEGER REFERENCES reviews (id) ON DELETE SET NULL,
    opened_by           TEXT    NOT NULL CHECK (opened_by IN ('reader', 'researcher', 'stripe')),
    opener_id           INTEGER REFERENCES users (id) ON DELETE SET NULL,
    description_enc     TEXT    NOT NULL,
    status              TEXT    NOT NULL
        CHECK (status IN ('open', 'awaiting_response', 'under_review', 'resolved', 'withdrawn')),
    -- The other party may answer until then.
    respond_by          TEXT,
    outcome             TEXT CHECK (outcome IN ('refund_full', 'refund_partial', 'no_refund', 'remove_review', 'claim_upheld')),
    refund_minor        INTEGER,
    resolution_note_enc TEXT,
    resolved_by         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    resolved_at         TEXT,
    -- A chargeback: Stripe's dispute id and its own status.
    stripe_dispute_id   TEXT UNIQUE,
    stripe_status       TEXT,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL
);
-- A session has at most one open dispute.
CREATE UNIQUE INDEX disputes_one_open ON disputes (session_id)
    WHERE status IN ('open', 'awaiting_response', 'under_review');
CREATE INDEX disputes_status ON disputes (status, id);
CREATE INDEX disputes_due ON disputes (respond_by) WHERE status IN ('open', 'awaiting_response');

-- Messages between the parties and admins, encrypted.
CREATE TABLE dispute_messages (
    id          INTEGER PRIMARY KEY,
    dispute_id  INTEGER NOT NULL REFERENCES disputes (id) ON DELETE CASCADE,
    author_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    author_role TEXT    NOT NULL CHECK (author_role IN ('reader', 'researcher', 'admin', 'system')),
    text_enc    TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);
CREATE INDEX dispute_messages_dispute ON dispute_messages (dispute_id, id);
