-- Money edge cases (issue 18): unpaid requests hold their slot only for the
-- payment window, a lapsed hold asks for a new payment, a declined card can
-- try again, and plan credits are a ledger of their own.

-- Why an expired request expired: `payment_not_completed` (the reader did
-- not pay within the payment window) or `not_answered`.
ALTER TABLE consulting_sessions ADD COLUMN expiry_reason TEXT;

-- The payment attempt the live intent belongs to (1, 2, …): each attempt
-- has its own idempotency keys at Stripe.
ALTER TABLE session_payments ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
-- When an authorised hold lapsed before the capture: the request waits for
-- a new payment (the researcher sees "waiting for payment").
ALTER TABLE session_payments ADD COLUMN lapsed_at TEXT;
-- An intent that Stripe must still be told to cancel: an unpaid request
-- that expired inside a write (lazily), or an attempt a retry replaced.
-- The sessions job cancels it and clears the column.
ALTER TABLE session_payments ADD COLUMN cancel_intent_id TEXT;
CREATE INDEX session_payments_cancel_due ON session_payments (cancel_intent_id)
    WHERE cancel_intent_id IS NOT NULL;

-- Unpaid requests of a reader (the `max_unpaid_requests` cap) and the
-- overlap check, which now skips requests whose answer or payment time ran
-- out before the job expired them: `expires_at` joins the covering index.
DROP INDEX consulting_sessions_live_span;
CREATE INDEX consulting_sessions_live_span
    ON consulting_sessions (researcher_id, start_at, end_at, status, expires_at)
    WHERE status IN ('requested', 'accepted');
CREATE INDEX consulting_sessions_reader_requested ON consulting_sessions (reader_id, expires_at)
    WHERE status = 'requested';

-- Included sessions of a plan: every spend (-1) and give-back (+1) is a row,
-- counted in the period (by its end) the spend fell in. What is left of a
-- period is the plan's allowance plus the sum of its rows.
CREATE TABLE plan_credits (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL,
    user_id         INTEGER,
    session_id      INTEGER NOT NULL,
    period_end      TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('spend', 'give_back')),
    delta           INTEGER NOT NULL CHECK (delta IN (-1, 1)),
    created_at      TEXT    NOT NULL,
    -- One spend and at most one give-back per session.
    UNIQUE (session_id, kind)
);
CREATE INDEX plan_credits_period ON plan_credits (subscription_id, period_end);
CREATE TRIGGER plan_credits_no_update BEFORE UPDATE ON plan_credits
    BEGIN SELECT RAISE(ABORT, 'plan credits are append-only'); END;

-- The ledger gains `payment_failed`: a declined attempt moved no money, but
-- the ledger shows every attempt. SQLite cannot change a CHECK, so the table
-- is rebuilt; invoices point at ledger ids, which are kept (the foreign key
-- is checked at commit, once the rows are back).
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE ledger_copy AS SELECT * FROM ledger;
DROP TABLE ledger;
CREATE TABLE ledger (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL
        CHECK (kind IN ('authorization', 'release', 'capture', 'refund', 'subscription_charge', 'dispute', 'payment_failed')),
    -- No foreign keys: the ledger outlives what it mentions.
    user_id         INTEGER,
    session_id      INTEGER,
    subscription_id INTEGER,
    amount_minor    INTEGER NOT NULL,
    tax_minor       INTEGER NOT NULL,
    fee_minor       INTEGER NOT NULL DEFAULT 0,
    currency        TEXT    NOT NULL,
    -- The Stripe object behind it (pi_…, re_…, in_…); one row per kind and object.
    stripe_ref      TEXT,
    created_at      TEXT    NOT NULL,
    UNIQUE (kind, stripe_ref)
);
INSERT INTO ledger (id, kind, user_id, session_id, subscription_id, amount_minor, tax_minor,
                    fee_minor, currency, stripe_ref, created_at)
    SELECT id, kind, user_id, session_id, subscription_id, amount_minor, tax_minor,
           fee_minor, currency, stripe_ref, created_at
      FROM ledger_copy ORDER BY id;
DROP TABLE ledger_copy;
CREATE INDEX ledger_user ON ledger (user_id, id);
CREATE INDEX ledger_session ON ledger (session_id);
CREATE INDEX ledger_created ON ledger (created_at);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
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
