-- Payments: billing profiles, per-session payments, the append-only ledger,
-- invoices and credit notes with gap-free numbers per year, subscriptions
-- and Stripe webhook events (stored by id, so a replay is a no-op).

CREATE TABLE billing_profiles (
    user_id            INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- ISO 3166-1 alpha-2; decides the tax rate.
    country            TEXT    NOT NULL,
    region             TEXT,
    -- Name, address and tax id as on invoices (JSON), encrypted.
    details_enc        TEXT,
    stripe_customer_id TEXT    UNIQUE,
    updated_at         TEXT    NOT NULL
);

-- The money side of a priced session.
CREATE TABLE session_payments (
    session_id          INTEGER PRIMARY KEY REFERENCES consulting_sessions (id) ON DELETE CASCADE,
    user_id             INTEGER NOT NULL,
    intent_id           TEXT    UNIQUE,
    checkout_session_id TEXT    UNIQUE,
    status              TEXT    NOT NULL
        CHECK (status IN ('pending', 'authorized', 'captured', 'canceled', 'refunded', 'partially_refunded', 'failed')),
    -- What the reader pays (gross), its tax, and the subscriber discount given.
    amount_minor        INTEGER NOT NULL,
    tax_minor           INTEGER NOT NULL,
    discount_minor      INTEGER NOT NULL DEFAULT 0,
    currency            TEXT    NOT NULL,
    tax_name            TEXT,
    tax_basis_points    INTEGER,
    refunded_minor      INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL
);
CREATE INDEX session_payments_user ON session_payments (user_id);

-- Every movement of money. Rows are never changed or deleted.
CREATE TABLE ledger (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL
        CHECK (kind IN ('authorization', 'release', 'capture', 'refund', 'subscription_charge', 'dispute')),
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
CREATE INDEX ledger_user ON ledger (user_id, id);
CREATE INDEX ledger_session ON ledger (session_id);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

-- The last invoice number given out per year (numbers have no gaps).
CREATE TABLE invoice_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE invoices (
    id                INTEGER PRIMARY KEY,
    number            TEXT    NOT NULL UNIQUE,
    year              INTEGER NOT NULL,
    seq               INTEGER NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    user_id           INTEGER,
    ledger_id         INTEGER NOT NULL UNIQUE REFERENCES ledger (id),
    -- The invoice a credit note corrects.
    credits_invoice_id INTEGER REFERENCES invoices (id),
    -- Seller, buyer, lines and tax lines as JSON; the buyer is encrypted.
    seller            TEXT    NOT NULL,
    buyer_enc         TEXT    NOT NULL,
    lines             TEXT    NOT NULL,
    tax_lines         TEXT    NOT NULL,
    net_minor         INTEGER NOT NULL,
    tax_minor         INTEGER NOT NULL,
    total_minor       INTEGER NOT NULL,
    currency          TEXT    NOT NULL,
    issued_at         TEXT    NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX invoices_user ON invoices (user_id, id);

CREATE TABLE subscriptions (
    id                     INTEGER PRIMARY KEY,
    user_id                INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plan_id                TEXT    NOT NULL,
    stripe_subscription_id TEXT    UNIQUE,
    checkout_session_id    TEXT    UNIQUE,
    status                 TEXT    NOT NULL
        CHECK (status IN ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'paused', 'canceled', 'expired')),
    current_period_start   TEXT,
    current_period_end     TEXT,
    cancel_at_period_end   INTEGER NOT NULL DEFAULT 0,
    -- Sessions taken free under the plan in the current period.
    sessions_used          INTEGER NOT NULL DEFAULT 0,
    -- `created` of the newest Stripe event applied; older ones never move
    -- the state back.
    stripe_event_at        INTEGER NOT NULL DEFAULT 0,
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL
);
CREATE INDEX subscriptions_user ON subscriptions (user_id, id);

-- Stripe webhook events by id: a replay is recognised and ignored.
CREATE TABLE webhook_events (
    id           TEXT PRIMARY KEY,
    type         TEXT    NOT NULL,
    created      INTEGER NOT NULL,
    received_at  TEXT    NOT NULL
);
