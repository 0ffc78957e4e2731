-- Idempotency-Key records of the tenant's money-moving requests (API.md): the response is stored in
-- the same transaction as the posting, so a key names a committed request or nothing.
CREATE TABLE idempotency_keys (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    scope text NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_sha256 bytea NOT NULL,
    status int NOT NULL,
    body bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Holds (two-phase): an amount reserved on an account lowers its available balance (balance minus
-- held) until it is captured (posted), voided or expires. held_minor is the sum of active holds;
-- the floor applies to what is available, enforced here as well as in the posting rules.
ALTER TABLE accounts
    ADD COLUMN held_minor bigint NOT NULL DEFAULT 0 CHECK (held_minor >= 0),
    ADD CONSTRAINT accounts_available_floor CHECK (floor_minor IS NULL OR balance_minor - held_minor >= floor_minor);

CREATE TABLE holds (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'captured', 'voided', 'expired')),
    captured_minor bigint NOT NULL DEFAULT 0 CHECK (captured_minor >= 0 AND captured_minor <= amount_minor),
    journal_id uuid REFERENCES journals (id),
    memo text NOT NULL DEFAULT '',
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX holds_account_active ON holds (account_id) WHERE status = 'active';

-- One wallet per member per currency.
CREATE UNIQUE INDEX accounts_one_wallet ON accounts (member_id, currency) WHERE kind = 'wallet';

-- A journal is corrected once, by one reversing journal that names it.
CREATE UNIQUE INDEX journals_reversed_once ON journals (reverses) WHERE reverses IS NOT NULL;
