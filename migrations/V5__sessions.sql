-- Consulting sessions: researchers' booking settings and availability,
-- the sessions themselves, their history, reminders and idempotency keys.

-- A reader's own time zone, for e-mails and pages (NULL: the browser's, or UTC).
ALTER TABLE users ADD COLUMN timezone TEXT;

-- Booking settings; the time zone is `researchers.timezone`.
CREATE TABLE researcher_settings (
    researcher_id       INTEGER PRIMARY KEY REFERENCES researchers (id) ON DELETE CASCADE,
    durations           TEXT    NOT NULL,            -- JSON array of minutes, e.g. [30, 60]
    price_minor         INTEGER NOT NULL CHECK (price_minor >= 0),
    currency            TEXT    NOT NULL,            -- ISO 4217, upper case
    min_notice_hours    INTEGER NOT NULL,
    buffer_minutes      INTEGER NOT NULL,
    max_per_day         INTEGER NOT NULL,
    horizon_days        INTEGER NOT NULL,
    request_ttl_hours   INTEGER NOT NULL,
    cancel_window_hours INTEGER NOT NULL,
    updated_at          TEXT    NOT NULL
);

-- Weekly rules and date exceptions, in the researcher's local time (JSON,
-- replaced as a whole by PUT .../availability).
CREATE TABLE availability (
    researcher_id INTEGER PRIMARY KEY REFERENCES researchers (id) ON DELETE CASCADE,
    rules         TEXT NOT NULL,
    exceptions    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE consulting_sessions (
    id                   INTEGER PRIMARY KEY,
    researcher_id        INTEGER NOT NULL REFERENCES researchers (id) ON DELETE CASCADE,
    reader_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id             INTEGER REFERENCES papers (id) ON DELETE SET NULL,
    query_id             INTEGER REFERENCES paper_queries (id) ON DELETE SET NULL,
    topic_enc            TEXT    NOT NULL,
    status               TEXT    NOT NULL
        CHECK (status IN ('requested', 'accepted', 'declined', 'expired', 'cancelled', 'completed', 'no_show')),
    start_at             TEXT    NOT NULL,
    end_at               TEXT    NOT NULL,
    duration_minutes     INTEGER NOT NULL,
    price_minor          INTEGER NOT NULL,
    currency             TEXT    NOT NULL,
    expires_at           TEXT    NOT NULL,
    -- Video: 'zoom' or 'template'; the link and password are encrypted.
    meeting_provider     TEXT,
    meeting_id           TEXT,
    meeting_url_enc      TEXT,
    meeting_password_enc TEXT,
    -- iCalendar SEQUENCE, raised on every change sent to calendars.
    ics_sequence         INTEGER NOT NULL DEFAULT 0,
    -- A proposed new time awaiting the other party.
    proposed_start_at    TEXT,
    proposed_end_at      TEXT,
    proposed_by          TEXT CHECK (proposed_by IN ('reader', 'researcher')),
    cancel_reason_enc    TEXT,
    cancelled_by         TEXT CHECK (cancelled_by IN ('reader', 'researcher', 'admin')),
    no_show_party        TEXT CHECK (no_show_party IN ('reader', 'researcher')),
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);
CREATE INDEX consulting_sessions_researcher ON consulting_sessions (researcher_id, start_at);
CREATE INDEX consulting_sessions_reader ON consulting_sessions (reader_id, start_at);
CREATE INDEX consulting_sessions_status ON consulting_sessions (status, start_at);
-- A second line of defence: two live sessions never start together.
CREATE UNIQUE INDEX consulting_sessions_live_start ON consulting_sessions (researcher_id, start_at)
    WHERE status IN ('requested', 'accepted');

-- What happened to a session, and who did it.
CREATE TABLE session_events (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES consulting_sessions (id) ON DELETE CASCADE,
    event      TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    at         TEXT    NOT NULL
);
CREATE INDEX session_events_session ON session_events (session_id, id);

-- Reminders already sent (one row per session and offset).
CREATE TABLE session_reminders (
    session_id     INTEGER NOT NULL REFERENCES consulting_sessions (id) ON DELETE CASCADE,
    offset_minutes INTEGER NOT NULL,
    start_at       TEXT    NOT NULL,
    sent_at        TEXT    NOT NULL,
    PRIMARY KEY (session_id, offset_minutes, start_at)
);

-- `Idempotency-Key` of booking requests: the same key and body answer the
-- same session.
CREATE TABLE idempotency_keys (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    session_id   INTEGER NOT NULL REFERENCES consulting_sessions (id) ON DELETE CASCADE,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (user_id, key)
);
