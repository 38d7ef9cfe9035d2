-- Hourly rollups for the admins' analytics, kept by triggers in the
-- transaction of every write (so they can never disagree with their
-- source), and filled here from what is already stored.
--
-- An hour is keyed by its start as a stored time (`db::ts`, UTC, fixed
-- width), e.g. `2026-03-29T21:00:00.000000Z`. Buckets start at local
-- midnight in `[institution] timezone`; in a zone a whole number of hours
-- from UTC every hour lies in one bucket, and the few hours a bucket edge
-- cuts (zones such as Asia/Kolkata) are counted from the raw rows instead.

-- Whether a session was ever accepted (set when its first `accepted`
-- event is written), for the conversion of cancelled sessions.
ALTER TABLE consulting_sessions ADD COLUMN ever_accepted INTEGER NOT NULL DEFAULT 0;
UPDATE consulting_sessions SET ever_accepted = 1
 WHERE id IN (SELECT session_id FROM session_events WHERE event = 'accepted');

-- Seconds from the request to this answer, on `accepted` and `declined`
-- events (NULL on others): the median answer time reads only these.
ALTER TABLE session_events ADD COLUMN waited_secs INTEGER;
UPDATE session_events
   SET waited_secs = (SELECT CAST(round((julianday(session_events.at) - julianday(s.created_at)) * 86400) AS INTEGER)
                        FROM consulting_sessions s WHERE s.id = session_events.session_id)
 WHERE event IN ('accepted', 'declined');
CREATE INDEX session_events_answers ON session_events (at, waited_secs) WHERE waited_secs IS NOT NULL;

-- Session events per hour and event.
CREATE TABLE session_event_hours (
    hour  TEXT    NOT NULL,
    event TEXT    NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (hour, event)
) WITHOUT ROWID;
INSERT INTO session_event_hours (hour, event, n)
SELECT substr(at, 1, 13) || ':00:00.000000Z', event, count(*)
  FROM session_events GROUP BY 1, 2;

-- Sessions per hour they were requested, by their status now and whether
-- they were ever accepted.
CREATE TABLE session_request_hours (
    hour          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    ever_accepted INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (hour, status, ever_accepted)
) WITHOUT ROWID;
INSERT INTO session_request_hours (hour, status, ever_accepted, n)
SELECT substr(created_at, 1, 13) || ':00:00.000000Z', status, ever_accepted, count(*)
  FROM consulting_sessions GROUP BY 1, 2, 3;

-- Money the analytics count, per hour, kind and currency (the ledger is
-- append-only, so only inserts change it).
CREATE TABLE ledger_hours (
    hour         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    n            INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    tax_minor    INTEGER NOT NULL,
    fee_minor    INTEGER NOT NULL,
    PRIMARY KEY (hour, kind, currency)
) WITHOUT ROWID;
INSERT INTO ledger_hours (hour, kind, currency, n, amount_minor, tax_minor, fee_minor)
SELECT substr(created_at, 1, 13) || ':00:00.000000Z', kind, currency, count(*),
       sum(amount_minor), sum(tax_minor), sum(fee_minor)
  FROM ledger WHERE kind IN ('capture', 'refund', 'subscription_charge') GROUP BY 1, 2, 3;

-- Reviews written per bucket read reviews by creation time.
CREATE INDEX reviews_created ON reviews (created_at);

CREATE TRIGGER session_events_rollup AFTER INSERT ON session_events
BEGIN
    INSERT INTO session_event_hours (hour, event, n)
    VALUES (substr(NEW.at, 1, 13) || ':00:00.000000Z', NEW.event, 1)
    ON CONFLICT (hour, event) DO UPDATE SET n = n + 1;
    UPDATE session_events
       SET waited_secs = (SELECT CAST(round((julianday(NEW.at) - julianday(s.created_at)) * 86400) AS INTEGER)
                            FROM consulting_sessions s WHERE s.id = NEW.session_id)
     WHERE id = NEW.id AND NEW.event IN ('accepted', 'declined');
    UPDATE consulting_sessions SET ever_accepted = 1
     WHERE id = NEW.session_id AND NEW.event = 'accepted' AND ever_accepted = 0;
END;

CREATE TRIGGER session_events_rollup_delete AFTER DELETE ON session_events
BEGIN
    UPDATE session_event_hours SET n = n - 1
     WHERE hour = substr(OLD.at, 1, 13) || ':00:00.000000Z' AND event = OLD.event;
END;

CREATE TRIGGER consulting_sessions_rollup AFTER INSERT ON consulting_sessions
BEGIN
    INSERT INTO session_request_hours (hour, status, ever_accepted, n)
    VALUES (substr(NEW.created_at, 1, 13) || ':00:00.000000Z', NEW.status, NEW.ever_accepted, 1)
    ON CONFLICT (hour, status, ever_accepted) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER consulting_sessions_rollup_update
AFTER UPDATE OF status, created_at, ever_accepted ON consulting_sessions
WHEN OLD.status IS NOT NEW.status OR OLD.created_at IS NOT NEW.created_at
  OR OLD.ever_accepted IS NOT NEW.ever_accepted
BEGIN
    UPDATE session_request_hours SET n = n - 1
     WHERE hour = substr(OLD.created_at, 1, 13) || ':00:00.000000Z'
       AND status = OLD.status AND ever_accepted = OLD.ever_accepted;
    INSERT INTO session_request_hours (hour, status, ever_accepted, n)
    VALUES (substr(NEW.created_at, 1, 13) || ':00:00.000000Z', NEW.status, NEW.ever_accepted, 1)
    ON CONFLICT (hour, status, ever_accepted) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER consulting_sessions_rollup_delete AFTER DELETE ON consulting_sessions
BEGIN
    UPDATE session_request_hours SET n = n - 1
     WHERE hour = substr(OLD.created_at, 1, 13) || ':00:00.000000Z'
       AND status = OLD.status AND ever_accepted = OLD.ever_accepted;
END;

CREATE TRIGGER ledger_rollup AFTER INSERT ON ledger
WHEN NEW.kind IN ('capture', 'refund', 'subscription_charge')
BEGIN
    INSERT INTO ledger_hours (hour, kind, currency, n, amount_minor, tax_minor, fee_minor)
    VALUES (substr(NEW.created_at, 1, 13) || ':00:00.000000Z', NEW.kind, NEW.currency, 1,
            NEW.amount_minor, NEW.tax_minor, NEW.fee_minor)
    ON CONFLICT (hour, kind, currency) DO UPDATE SET
        n = n + 1,
        amount_minor = amount_minor + excluded.amount_minor,
        tax_minor = tax_minor + excluded.tax_minor,
        fee_minor = fee_minor + excluded.fee_minor;
END;
