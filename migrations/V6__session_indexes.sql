-- Booking hot paths: the lazy expiry check per researcher and the proposed
-- times in the busy query read an index instead of every pending row.
CREATE INDEX consulting_sessions_due ON consulting_sessions (researcher_id, expires_at)
    WHERE status = 'requested';
CREATE INDEX consulting_sessions_proposed ON consulting_sessions (researcher_id, proposed_start_at)
    WHERE proposed_start_at IS NOT NULL;
