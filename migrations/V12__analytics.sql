-- Engagement counters and the indexes the dashboards and analytics read by.

-- Daily aggregate counters: one row per day (in `[institution] timezone`),
-- kind and subject (the paper for `paper_view`, 0 otherwise). No row names
-- a person: this is not a browsing history. The analytics job deletes rows
-- older than `[analytics] retention_days`.
--   search        a paper search (API or page)
--   paper_view    a paper opened (API or page); subject = paper id
--   sign_in       a successful sign-in
--   active_day    accounts active that day (each counted once a day)
--   active_week   accounts active that week; day = the week's Monday
--   active_month  accounts active that month; day = the month's first day
CREATE TABLE analytics_counters (
    day     TEXT    NOT NULL,
    kind    TEXT    NOT NULL
        CHECK (kind IN ('search', 'paper_view', 'sign_in', 'active_day', 'active_week', 'active_month')),
    subject INTEGER NOT NULL DEFAULT 0,
    count   INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (day, kind, subject)
) WITHOUT ROWID;

-- The last day, week and month an account was counted active, so it is
-- counted once per period. Only the latest period is kept, no history.
ALTER TABLE users ADD COLUMN active_day TEXT;
ALTER TABLE users ADD COLUMN active_week TEXT;
ALTER TABLE users ADD COLUMN active_month TEXT;

-- Analytics read by time range.
CREATE INDEX session_events_at ON session_events (at, event, session_id);
CREATE INDEX consulting_sessions_created ON consulting_sessions (created_at, status);
CREATE INDEX ledger_created ON ledger (created_at);
