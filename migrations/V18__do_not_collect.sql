-- Erasure of a researcher profile whose person never signed up (GDPR
-- Art. 17; services::data_rights::erasure).

-- Identities collection must never rebuild a profile for: ORCID iDs and
-- OpenAlex author ids, each stored only as its blind index (a keyed hash
-- under the keyring's index key, domain `orcid` or `openalex`), so the
-- list can be checked but not read back.
CREATE TABLE do_not_collect (
    identity_bidx TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('orcid', 'openalex')),
    -- Why it is listed, e.g. `erased`.
    reason        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- An erased profile stays as a row without personal fields, so sessions,
-- reviews, merges and audit rows that name its id keep a valid reference.
ALTER TABLE researchers ADD COLUMN erased_at TEXT;

-- An author of a paper whose profile was erased: the author keeps its
-- place in the list, without name, affiliation or ORCID, and collection
-- skips it.
ALTER TABLE paper_authors ADD COLUMN removed_at TEXT;
