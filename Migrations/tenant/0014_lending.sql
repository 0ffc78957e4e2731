-- Lending (issue 19): loan products, applications with their explained score, schedules to the cent,
-- repayments with their allocation, delinquency and write-off.
--
-- Ledger: the credit union's loans_receivable account per currency goes negative by the principal
-- it has lent and comes back as principal is repaid or written off; interest is income when it is
-- paid (loan_interest_income), penalties and the origination fee go to fee_income, and a write-off
-- moves what is left of the principal to loan_losses. Per loan, the loans table keeps the principal
-- outstanding, which verify-ledger reconciles with the disbursements, repayment parts and write-offs.
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN ('chequing', 'savings', 'wallet', 'cash', 'fee_income',
    'fx_spread_income', 'remittance_clearing', 'tontine_pool', 'tontine_guarantee', 'tontine_arrears', 'loans_receivable', 'partner_settlement',
    'loan_interest_income', 'loan_losses'))
    NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_kind_check;

ALTER TABLE tenant_config DROP CONSTRAINT tenant_config_key_check;
ALTER TABLE tenant_config ADD CONSTRAINT tenant_config_key_check
    CHECK (key IN ('fees', 'branding', 'kyc_limits', 'domains', 'compliance', 'rate_limits', 'tontine', 'lending'));

-- What the credit union offers; a change bumps the version (the ETag) and never touches a loan
-- already made (each loan copies the terms it was made on).
CREATE TABLE loan_products (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    min_principal_minor bigint NOT NULL CHECK (min_principal_minor > 0),
    max_principal_minor bigint NOT NULL,
    min_term int NOT NULL CHECK (min_term >= 1),
    max_term int NOT NULL CHECK (max_term <= 520),
    frequency text NOT NULL CHECK (frequency IN ('weekly', 'biweekly', 'monthly')),
    annual_rate_bps int NOT NULL CHECK (annual_rate_bps BETWEEN 0 AND 10000),
    method text NOT NULL CHECK (method IN ('declining_balance', 'flat')),
    fee_fixed_minor bigint NOT NULL CHECK (fee_fixed_minor >= 0),
    fee_bps int NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
    grace_instalments int NOT NULL CHECK (grace_instalments >= 0),
    penalty_fixed_minor bigint NOT NULL CHECK (penalty_fixed_minor >= 0),
    penalty_bps int NOT NULL CHECK (penalty_bps BETWEEN 0 AND 10000),
    penalty_grace_days int NOT NULL CHECK (penalty_grace_days BETWEEN 0 AND 90),
    active boolean NOT NULL,
    version int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (max_principal_minor >= min_principal_minor),
    CHECK (max_term >= min_term),
    CHECK (grace_instalments < min_term)
);
CREATE INDEX loan_products_created ON loan_products (created_at DESC, id DESC);

CREATE TABLE loans (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    product_id uuid NOT NULL REFERENCES loan_products (id),
    product_version int NOT NULL,
    -- The terms, copied from the product when the application was made.
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    principal_minor bigint NOT NULL CHECK (principal_minor > 0),
    term int NOT NULL CHECK (term BETWEEN 1 AND 520),
    frequency text NOT NULL CHECK (frequency IN ('weekly', 'biweekly', 'monthly')),
    annual_rate_bps int NOT NULL CHECK (annual_rate_bps BETWEEN 0 AND 10000),
    method text NOT NULL CHECK (method IN ('declining_balance', 'flat')),
    grace_instalments int NOT NULL CHECK (grace_instalments >= 0 AND grace_instalments < term),
    fee_minor bigint NOT NULL CHECK (fee_minor >= 0 AND fee_minor < principal_minor),
    penalty_fixed_minor bigint NOT NULL CHECK (penalty_fixed_minor >= 0),
    penalty_bps int NOT NULL CHECK (penalty_bps BETWEEN 0 AND 10000),
    penalty_grace_days int NOT NULL CHECK (penalty_grace_days BETWEEN 0 AND 90),
    -- The cost of credit when it was checked against the cap (an exact decimal fraction: 0.2431 = 24.31%).
    apr numeric NOT NULL CHECK (apr >= 0),
    cap_bps int NOT NULL,
    purpose text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 500),
    -- The member's account the money goes to and autopay takes from.
    account_id uuid NOT NULL REFERENCES accounts (id),
    autopay boolean NOT NULL,
    state text NOT NULL CHECK (state IN ('submitted', 'approved', 'referred', 'declined', 'disbursed', 'closed', 'written_off')),
    -- The decision, replayable: the inputs, the points of each factor, the reasons and the cut-offs.
    score int NOT NULL CHECK (score BETWEEN 300 AND 900),
    decision jsonb NOT NULL,
    disbursed_on date,
    disbursement_journal_id uuid REFERENCES journals (id),
    principal_outstanding_minor bigint NOT NULL DEFAULT 0 CHECK (principal_outstanding_minor >= 0),
    written_off_minor bigint NOT NULL DEFAULT 0 CHECK (written_off_minor >= 0),
    write_off_journal_id uuid REFERENCES journals (id),
    bucket text CHECK (bucket IN ('1-30', '31-60', '61-90', '91+')),
    -- When the scheduler looks at the loan next (autopay, penalties, the next bucket); NULL when nothing is pending.
    next_action_at timestamptz,
    created_by uuid,
    created_by_role text NOT NULL,
    created_at timestamptz NOT NULL,
    closed_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((state IN ('disbursed', 'closed', 'written_off')) = (disbursement_journal_id IS NOT NULL)),
    CHECK ((state = 'written_off') = (write_off_journal_id IS NOT NULL))
);
CREATE INDEX loans_member ON loans (member_id, created_at DESC, id DESC);
CREATE INDEX loans_created ON loans (created_at DESC, id DESC);
CREATE INDEX loans_bucket ON loans (bucket, created_at DESC, id DESC) WHERE bucket IS NOT NULL;
CREATE INDEX loans_due ON loans (next_action_at) WHERE next_action_at IS NOT NULL;

-- The state machine again, in SQL (LoanState.next in Swift is the first check).
CREATE FUNCTION check_loan_transition() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state AND NOT (OLD.state || '>' || NEW.state) = ANY (ARRAY[
        'submitted>approved', 'submitted>referred', 'submitted>declined', 'referred>approved', 'referred>declined',
        'approved>disbursed', 'disbursed>closed', 'disbursed>written_off']) THEN
        RAISE EXCEPTION 'loan % cannot go from % to %', OLD.id, OLD.state, NEW.state USING ERRCODE = '23514';
    END IF;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$fn$;
CREATE TRIGGER loans_transition BEFORE UPDATE ON loans FOR EACH ROW EXECUTE FUNCTION check_loan_transition();

CREATE TABLE loan_status_log (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    loan_id uuid NOT NULL REFERENCES loans (id),
    from_state text,
    to_state text NOT NULL,
    actor uuid,
    actor_role text NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    created_at timestamptz NOT NULL
);
CREATE INDEX loan_status_log_loan ON loan_status_log (loan_id, id);
CREATE TRIGGER loan_status_log_immutable BEFORE UPDATE OR DELETE ON loan_status_log FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The schedule, fixed at disbursement, and what each instalment has received.
CREATE TABLE loan_instalments (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    loan_id uuid NOT NULL REFERENCES loans (id),
    number int NOT NULL CHECK (number BETWEEN 1 AND 520),
    due_date date NOT NULL,
    principal_minor bigint NOT NULL CHECK (principal_minor >= 0),
    interest_minor bigint NOT NULL CHECK (interest_minor >= 0),
    fee_minor bigint NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
    penalty_minor bigint NOT NULL DEFAULT 0 CHECK (penalty_minor >= 0),
    principal_paid_minor bigint NOT NULL DEFAULT 0,
    interest_paid_minor bigint NOT NULL DEFAULT 0,
    fee_paid_minor bigint NOT NULL DEFAULT 0,
    penalty_paid_minor bigint NOT NULL DEFAULT 0,
    penalty_charged boolean NOT NULL DEFAULT false,
    -- The day it was paid in full (NULL while anything of it is unpaid); rebated: the loan was paid
    -- off early and the interest it had not earned was never asked for.
    paid_on date,
    rebated boolean NOT NULL DEFAULT false,
    PRIMARY KEY (loan_id, number),
    CHECK (principal_paid_minor BETWEEN 0 AND principal_minor),
    CHECK (interest_paid_minor BETWEEN 0 AND interest_minor),
    CHECK (fee_paid_minor BETWEEN 0 AND fee_minor),
    CHECK (penalty_paid_minor BETWEEN 0 AND penalty_minor)
);

-- Money in: each repayment with its allocation, and its parts per instalment.
CREATE TABLE loan_repayments (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    loan_id uuid NOT NULL REFERENCES loans (id),
    kind text NOT NULL CHECK (kind IN ('repayment', 'autopay', 'payoff')),
    account_id uuid NOT NULL REFERENCES accounts (id),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    penalty_minor bigint NOT NULL CHECK (penalty_minor >= 0),
    fee_minor bigint NOT NULL CHECK (fee_minor >= 0),
    interest_minor bigint NOT NULL CHECK (interest_minor >= 0),
    principal_minor bigint NOT NULL CHECK (principal_minor >= 0),
    -- Deferred: a repayment's rows are written before its journal, so the credit union's accounts the
    -- journal locks are held for as short a time as possible; COMMIT checks the journal exists.
    journal_id uuid NOT NULL REFERENCES journals (id) DEFERRABLE INITIALLY DEFERRED,
    created_at timestamptz NOT NULL,
    CHECK (penalty_minor + fee_minor + interest_minor + principal_minor = amount_minor)
);
CREATE INDEX loan_repayments_loan ON loan_repayments (loan_id, created_at);
CREATE TRIGGER loan_repayments_immutable BEFORE UPDATE OR DELETE ON loan_repayments FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE loan_repayment_parts (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    repayment_id uuid NOT NULL REFERENCES loan_repayments (id),
    loan_id uuid NOT NULL,
    number int NOT NULL,
    penalty_minor bigint NOT NULL CHECK (penalty_minor >= 0),
    fee_minor bigint NOT NULL CHECK (fee_minor >= 0),
    interest_minor bigint NOT NULL CHECK (interest_minor >= 0),
    principal_minor bigint NOT NULL CHECK (principal_minor >= 0),
    PRIMARY KEY (repayment_id, number),
    FOREIGN KEY (loan_id, number) REFERENCES loan_instalments (loan_id, number),
    CHECK (penalty_minor + fee_minor + interest_minor + principal_minor > 0)
);
CREATE TRIGGER loan_repayment_parts_immutable BEFORE UPDATE OR DELETE ON loan_repayment_parts FOR EACH ROW EXECUTE FUNCTION refuse_change();

DO $grant$ BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE ON loan_status_log, loan_repayments, loan_repayment_parts FROM %I', current_schema() || '_app');
END $grant$;
