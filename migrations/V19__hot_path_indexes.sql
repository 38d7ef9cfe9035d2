-- Indexes for full scans that EXPLAIN QUERY PLAN found on hot paths at
-- scale (100,000 papers, 300,000 researchers, 1,000,000 sessions; see
-- docs/query_plans.md for the plans and the timings before and after).

-- researchers::by_user (the sessions list, dashboards, account and
-- settings pages): a scan of every profile without it (45-88 ms).
CREATE INDEX researchers_user ON researchers (user_id);

-- reviews::published_of: with status and side in the key the planner
-- picks it even without statistics (the old index lost to reviews_queue
-- and walked every published review: 57-99 ms).
DROP INDEX reviews_public;
CREATE INDEX reviews_public ON reviews (researcher_id, status, side, id DESC)
    WHERE status = 'published' AND side = 'reader';

-- The sessions job's due_completion (every minute): accepted sessions by
-- end, instead of every accepted session sorted (18-26 ms).
CREATE INDEX consulting_sessions_accepted_end ON consulting_sessions (status, end_at)
    WHERE status = 'accepted';

-- The reviews job's due_reminders (hourly, inside a write transaction):
-- completed sessions not reminded yet, by end (0.74-1.08 s, now 0.14 s).
CREATE INDEX consulting_sessions_review_due ON consulting_sessions (status, end_at)
    WHERE status = 'completed' AND review_reminded_at IS NULL;
