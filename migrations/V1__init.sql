-- Colloquy foundation schema. Times are RFC 3339 UTC text. Columns ending in
-- _enc hold field-encrypted ciphertext (see docs/database_schema.md); columns
-- ending in _bidx hold blind indexes (HMAC) for equality look-ups.

CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    email_enc         TEXT    NOT NULL,
    email_bidx        TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    role              TEXT    NOT NULL CHECK (role IN ('user', 'researcher', 'admin')),
    password_hash     TEXT    NOT NULL,
    email_verified_at TEXT,
    terms_version     TEXT,
    terms_accepted_at TEXT,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    disabled_at       TEXT
);
CREATE INDEX users_role ON users (role);

CREATE TABLE auth_sessions (
    id                  INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind                TEXT    NOT NULL CHECK (kind IN ('api', 'web')),
    token_hash          TEXT    NOT NULL UNIQUE,
    previous_token_hash TEXT,
    created_at          TEXT    NOT NULL,
    last_used_at        TEXT    NOT NULL,
    expires_at          TEXT    NOT NULL,
    revoked_at          TEXT
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);
CREATE INDEX auth_sessions_previous ON auth_sessions (previous_token_hash);
CREATE INDEX auth_sessions_expires ON auth_sessions (expires_at);

CREATE TABLE setup_links (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

CREATE TABLE papers (
    id                INTEGER PRIMARY KEY,
    title             TEXT    NOT NULL,
    doi               TEXT    UNIQUE,
    year              INTEGER,
    venue             TEXT,
    abstract          TEXT,
    url               TEXT,
    source            TEXT    NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'openalex', 'demo')),
    created_by        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    collection_status TEXT    NOT NULL DEFAULT 'not_collected'
        CHECK (collection_status IN ('not_collected', 'queued', 'running', 'collected', 'partial', 'failed')),
    collected_at      TEXT,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
);

CREATE TABLE paper_authors (
    paper_id    INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    affiliation TEXT,
    orcid       TEXT,
    PRIMARY KEY (paper_id, position)
);
CREATE INDEX paper_authors_orcid ON paper_authors (orcid) WHERE orcid IS NOT NULL;

-- Full-text index over titles and author names; rowid = papers.id.
CREATE VIRTUAL TABLE papers_fts USING fts5 (title, authors, tokenize = 'unicode61 remove_diacritics 2');

CREATE TABLE reading_progress (
    user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id           INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    percent            INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
    wants_consultation INTEGER NOT NULL DEFAULT 0 CHECK (wants_consultation IN (0, 1)),
    updated_at         TEXT    NOT NULL,
    PRIMARY KEY (user_id, paper_id)
);
CREATE INDEX reading_progress_paper ON reading_progress (paper_id) WHERE wants_consultation = 1;

CREATE TABLE paper_queries (
    id           INTEGER PRIMARY KEY,
    paper_id     INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    question_enc TEXT    NOT NULL,
    -- The consulting session where it was answered (sessions come later).
    session_id   INTEGER,
    created_at   TEXT    NOT NULL
);
CREATE INDEX paper_queries_paper_user ON paper_queries (paper_id, user_id);

-- Append-only audit trail with a hash chain; audit_head anchors the end.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT    NOT NULL,
    actor_user_id INTEGER,
    action        TEXT    NOT NULL,
    target        TEXT,
    detail        TEXT    NOT NULL DEFAULT '{}',
    ip_enc        TEXT,
    prev_hash     TEXT    NOT NULL,
    hash          TEXT    NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action);

CREATE TABLE audit_head (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    last_id   INTEGER NOT NULL,
    last_hash TEXT    NOT NULL
);

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Only the ciphertext of the IP may change (key rotation re-encrypts it).
CREATE TRIGGER audit_log_no_update
BEFORE UPDATE OF id, at, actor_user_id, action, target, detail, prev_hash, hash ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
