-- Applied inside the tenant's schema (search_path is set to it). Every table carries tenant_id,
-- defaulted from the transaction's app.tenant_id and checked by the forced RLS policy.

CREATE TABLE tenant_config (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    key text NOT NULL CHECK (key IN ('fees', 'branding', 'kyc_limits', 'domains')),
    value jsonb NOT NULL,
    version int NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE members (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    full_name text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    phone text,
    password_hash text NOT NULL,
    kyc_tier smallint NOT NULL DEFAULT 1 CHECK (kyc_tier BETWEEN 1 AND 4),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (tenant_id, email)
);
CREATE INDEX members_created ON members (created_at DESC, id DESC);

-- Member accounts (chequing, savings, wallets) and the credit union's own ledger accounts.
CREATE TABLE accounts (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid REFERENCES members (id),
    kind text NOT NULL CHECK (kind IN ('chequing', 'savings', 'wallet', 'cash', 'fee_income', 'fx_spread_income',
        'remittance_clearing', 'tontine_pool', 'loans_receivable', 'partner_settlement')),
    -- No foreign key to reference.currencies: each one would add RI triggers to that shared table and
    -- lock it, per tenant. The format is checked here; the supported list is checked by the API.
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'frozen', 'closed')),
    -- NULL floor: a credit-union account whose balance may take either sign (cash is an asset).
    floor_minor bigint,
    balance_minor bigint NOT NULL DEFAULT 0,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((member_id IS NOT NULL) = (kind IN ('chequing', 'savings', 'wallet'))),
    CHECK (member_id IS NULL OR floor_minor IS NOT NULL),
    CHECK (floor_minor IS NULL OR balance_minor >= floor_minor)
);
CREATE INDEX accounts_member ON accounts (member_id, created_at DESC, id DESC);
CREATE INDEX accounts_created ON accounts (created_at DESC, id DESC);
CREATE UNIQUE INDEX accounts_one_system_account ON accounts (kind, currency) WHERE member_id IS NULL;

-- Double-entry journals: immutable; a correction is a reversing journal naming the original.
CREATE TABLE journals (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    memo text NOT NULL DEFAULT '',
    reverses uuid REFERENCES journals (id),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE entries (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    journal_id uuid NOT NULL REFERENCES journals (id),
    account_id uuid NOT NULL REFERENCES accounts (id),
    amount_minor bigint NOT NULL CHECK (amount_minor <> 0),
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX entries_journal ON entries (journal_id);
CREATE INDEX entries_account ON entries (account_id, id DESC);

-- Each entry moves its account's balance in the same statement; the accounts CHECK then refuses a
-- balance below its floor, and the row lock serialises concurrent postings to one account.
CREATE FUNCTION apply_entry() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    account_currency char(3);
BEGIN
    UPDATE accounts SET balance_minor = balance_minor + NEW.amount_minor
        WHERE id = NEW.account_id AND status = 'open'
        RETURNING currency INTO account_currency;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % is not open', NEW.account_id USING ERRCODE = 'P0001';
    END IF;
    IF account_currency <> NEW.currency THEN
        RAISE EXCEPTION 'entry currency % does not match account currency %', NEW.currency, account_currency
            USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END
$fn$;
CREATE TRIGGER entries_apply AFTER INSERT ON entries FOR EACH ROW EXECUTE FUNCTION apply_entry();

-- A journal must balance per currency by the end of its transaction.
CREATE FUNCTION check_journal_balanced() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM entries WHERE journal_id = NEW.journal_id GROUP BY currency HAVING sum(amount_minor) <> 0) THEN
        RAISE EXCEPTION 'journal % does not sum to zero per currency', NEW.journal_id USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END
$fn$;
CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_journal_balanced();

-- Journals and entries never change once written.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
END
$fn$;
CREATE TRIGGER journals_immutable BEFORE UPDATE OR DELETE ON journals FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER entries_immutable BEFORE UPDATE OR DELETE ON entries FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Member refresh tokens, stored as SHA-256 digests only.
CREATE TABLE refresh_tokens (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    token_sha256 bytea PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    expires_at timestamptz NOT NULL
);
