-- The overlap check of every booking and reschedule (`consulting_sessions::busy`)
-- reads the live sessions of one researcher whose start falls in a few days.
-- With start, end and status in the index it never visits the table: before, each of
-- those rows cost a table lookup, the largest single cost of a booking's write
-- once a researcher's calendar filled (issue 16, docs/query_plans.md).
CREATE INDEX consulting_sessions_live_span ON consulting_sessions (researcher_id, start_at, end_at, status)
    WHERE status IN ('requested', 'accepted');
