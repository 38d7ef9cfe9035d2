-- Researcher profiles collected from OpenAlex, Firecrawl, RocketReach and
-- Tavily, durable collection jobs, and the provider-call log.

CREATE TABLE researchers (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    affiliation    TEXT,
    orcid          TEXT    UNIQUE,
    openalex_id    TEXT    UNIQUE,
    email_enc      TEXT,
    email_bidx     TEXT    UNIQUE,
    -- RocketReach grade (e.g. "A-") and/or SMTP validity of the e-mail.
    email_quality  TEXT,
    bio            TEXT,
    homepage       TEXT,
    works_count    INTEGER,
    cited_by_count INTEGER,
    h_index        INTEGER,
    topics         TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
    recent_works   TEXT    NOT NULL DEFAULT '[]',  -- JSON array of {title, year, doi}
    publications   TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
    achievements   TEXT    NOT NULL DEFAULT '[]',  -- JSON array of {text, source_url}
    -- Fields the researcher corrected; collection never overwrites them.
    edited_fields  TEXT    NOT NULL DEFAULT '[]',
    user_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    claimed_at     TEXT,
    collected_at   TEXT,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);
CREATE INDEX researchers_name ON researchers (name);
CREATE INDEX researchers_collected ON researchers (collected_at);

-- Where each field's current value came from (one row per field).
CREATE TABLE researcher_field_sources (
    researcher_id INTEGER NOT NULL REFERENCES researchers (id) ON DELETE CASCADE,
    field         TEXT    NOT NULL,
    provider      TEXT    NOT NULL,
    source_url    TEXT,
    recorded_at   TEXT    NOT NULL,
    PRIMARY KEY (researcher_id, field)
);

-- Provenance of merges: what was merged into what, with the old sources.
CREATE TABLE researcher_merges (
    id            INTEGER PRIMARY KEY,
    kept_id       INTEGER NOT NULL REFERENCES researchers (id) ON DELETE CASCADE,
    merged_id     INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    merged_sources TEXT   NOT NULL DEFAULT '[]',
    merged_at     TEXT    NOT NULL
);

-- The researcher behind each author of a paper.
CREATE TABLE paper_researchers (
    paper_id      INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    researcher_id INTEGER NOT NULL REFERENCES researchers (id) ON DELETE CASCADE,
    PRIMARY KEY (paper_id, position)
);
CREATE INDEX paper_researchers_researcher ON paper_researchers (researcher_id);

CREATE TABLE collection_jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('paper', 'person')),
    paper_id     INTEGER REFERENCES papers (id) ON DELETE CASCADE,
    -- For person jobs: who to look for.
    name         TEXT,
    affiliation  TEXT,
    -- Equal for requests that mean the same work; one active job per key.
    dedupe_key   TEXT    NOT NULL,
    requested_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    status       TEXT    NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'completed', 'partial', 'failed')),
    error        TEXT,
    created_at   TEXT    NOT NULL,
    started_at   TEXT,
    finished_at  TEXT
);
CREATE INDEX collection_jobs_status ON collection_jobs (status, id);
CREATE UNIQUE INDEX collection_jobs_active ON collection_jobs (dedupe_key) WHERE status IN ('queued', 'running');
CREATE INDEX collection_jobs_requester ON collection_jobs (requested_by, created_at);

-- One row per (job, author, provider): the saved progress of a job.
CREATE TABLE collection_steps (
    job_id        INTEGER NOT NULL REFERENCES collection_jobs (id) ON DELETE CASCADE,
    author_index  INTEGER NOT NULL,
    provider      TEXT    NOT NULL,
    researcher_id INTEGER REFERENCES researchers (id) ON DELETE SET NULL,
    -- ok | empty | not_needed | skipped | unavailable | failed
    outcome       TEXT    NOT NULL,
    detail        TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    duration_ms   INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (job_id, author_index, provider)
);

-- Every call to an external provider: the basis of the monthly budgets.
CREATE TABLE provider_calls (
    id          INTEGER PRIMARY KEY,
    provider    TEXT    NOT NULL,
    operation   TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,   -- ok | not_found | error | cached
    status_code INTEGER,
    attempts    INTEGER NOT NULL,
    paid        INTEGER NOT NULL CHECK (paid IN (0, 1)),
    duration_ms INTEGER NOT NULL,
    at          TEXT    NOT NULL
);
CREATE INDEX provider_calls_month ON provider_calls (provider, at);

-- A provider that refused our key or has no credits left is not called
-- again until an admin re-enables it or the key changes.
CREATE TABLE provider_status (
    provider          TEXT PRIMARY KEY,
    unavailable_since TEXT,
    unavailable_reason TEXT,
    key_fingerprint   TEXT,
    last_error        TEXT,
    last_error_at     TEXT
);
