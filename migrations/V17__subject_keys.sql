-- Per-subject keys (crypto-shredding). The keys themselves live outside
-- this database, in <data_dir>/keys/subject_keys.db.
--
-- Audit rows from now on hash a keyed MAC of the client IP instead of the
-- IP itself, so the IP can be sealed under the actor's own key and shredded
-- at erasure while the chain still verifies. NULL on older rows, whose
-- hash covers the IP in clear (those IPs stay under the keyring key).
ALTER TABLE audit_log ADD COLUMN ip_mac TEXT;

-- A self-service erasure is accepted at once (the account is closed) and
-- finished in the background: open sessions are cancelled with refunds,
-- then the personal data is erased. Set until it is done.
ALTER TABLE users ADD COLUMN erasure_requested_at TEXT;
CREATE INDEX users_erasure_pending ON users (erasure_requested_at)
    WHERE erasure_requested_at IS NOT NULL AND deleted_at IS NULL;
