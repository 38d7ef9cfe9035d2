-- The consent ledger (issue 15, "Consent"): what each account agreed to
-- and withdrew, and when. Append-only like `ledger`: a withdrawal is a new
-- row, never an edit, so the history cannot be rewritten. The current
-- state of a kind is its latest row (services::consents folds them).
CREATE TABLE consents (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('terms', 'privacy_notice', 'researcher_listing',
                                                'review_reminders', 'product_email')),
    action     TEXT    NOT NULL CHECK (action IN ('grant', 'withdraw')),
    -- The document's version for `terms` and `privacy_notice`; for a
    -- listing, the terms version it was given under.
    version    TEXT,
    at         TEXT    NOT NULL,
    -- Where it was given or withdrawn: `registration`, `account` (the
    -- account page), `api`, `interstitial`, `invitation`, `claim`,
    -- `review_settings`, `demo`, or `migration` (carried over from the
    -- columns that held it before this table).
    source     TEXT    NOT NULL
);
CREATE INDEX consents_user_kind ON consents (user_id, kind, id);

CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
    BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
    BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;

-- The privacy notice an account acknowledged (like terms_version).
ALTER TABLE users ADD COLUMN privacy_version TEXT;
ALTER TABLE users ADD COLUMN privacy_accepted_at TEXT;

-- Set while the owner has withdrawn `researcher_listing`: the profile is
-- then neither listed as bookable nor bookable (listing::BOOKABLE).
ALTER TABLE researchers ADD COLUMN listing_withdrawn_at TEXT;

-- Each version of the terms and the privacy notice as it read when it
-- first became current, so `/terms/{version}` shows what people accepted
-- even after the config or the templates change. Never edited.
CREATE TABLE legal_texts (
    document         TEXT NOT NULL CHECK (document IN ('terms', 'privacy_notice')),
    version          TEXT NOT NULL,
    -- JSON array of paragraphs.
    paragraphs       TEXT NOT NULL,
    first_current_at TEXT NOT NULL,
    PRIMARY KEY (document, version)
);
CREATE TRIGGER legal_texts_no_update BEFORE UPDATE ON legal_texts
    BEGIN SELECT RAISE(ABORT, 'legal texts are kept as published'); END;
CREATE TRIGGER legal_texts_no_delete BEFORE DELETE ON legal_texts
    BEGIN SELECT RAISE(ABORT, 'legal texts are kept as published'); END;

-- Backfill from what was stored before.
INSERT INTO consents (user_id, kind, action, version, at, source)
SELECT id, 'terms', 'grant', terms_version, COALESCE(terms_accepted_at, created_at), 'migration'
  FROM users WHERE terms_version IS NOT NULL AND deleted_at IS NULL;

INSERT INTO consents (user_id, kind, action, version, at, source)
SELECT r.user_id, 'researcher_listing', 'grant', r.listing_terms_version, r.listing_consent_at, 'migration'
  FROM researchers r JOIN users u ON u.id = r.user_id
 WHERE r.listing_consent_at IS NOT NULL AND u.deleted_at IS NULL;

-- Reminders were on unless turned off; the time of a change was not kept,
-- so a withdrawal carries the account's last update.
INSERT INTO consents (user_id, kind, action, version, at, source)
SELECT id, 'review_reminders', CASE review_reminders WHEN 1 THEN 'grant' ELSE 'withdraw' END,
       NULL, CASE review_reminders WHEN 1 THEN created_at ELSE updated_at END, 'migration'
  FROM users WHERE deleted_at IS NULL;
