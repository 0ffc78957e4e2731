-- Tontine (issue 18): rotating savings circles on the credit union's own ledger.
--
-- Ledger: each circle has its own pool account (kind tontine_pool, floor 0, so a pool never goes
-- negative whatever the code does), named by accounts.circle_id; the credit union keeps one
-- guarantee account per currency (its advances to circles, negative while outstanding) and one
-- arrears account per currency (the late fees a defaulter owes, booked as a receivable).
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN ('chequing', 'savings', 'wallet', 'cash', 'fee_income',
    'fx_spread_income', 'remittance_clearing', 'tontine_pool', 'tontine_guarantee', 'tontine_arrears', 'loans_receivable', 'partner_settlement'))
    NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD COLUMN circle_id uuid;
-- Provisioning used to open one unused 'tontine_pool' system account per ledger currency; pools are
-- now per circle, so that account becomes the currency's guarantee account (never posted to: 0).
UPDATE accounts SET kind = 'tontine_guarantee', name = 'Tontine guarantee ' || currency
WHERE kind = 'tontine_pool' AND member_id IS NULL;
ALTER TABLE accounts ADD CONSTRAINT accounts_pool_has_circle CHECK ((kind = 'tontine_pool') = (circle_id IS NOT NULL)) NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_pool_has_circle;
-- One system account per kind and currency, except pools (one per circle).
DROP INDEX accounts_one_system_account;
CREATE UNIQUE INDEX accounts_one_system_account ON accounts (kind, currency) WHERE member_id IS NULL AND circle_id IS NULL;
CREATE UNIQUE INDEX accounts_one_pool ON accounts (circle_id) WHERE circle_id IS NOT NULL;

ALTER TABLE tenant_config DROP CONSTRAINT tenant_config_key_check;
ALTER TABLE tenant_config ADD CONSTRAINT tenant_config_key_check
    CHECK (key IN ('fees', 'branding', 'kyc_limits', 'domains', 'compliance', 'rate_limits', 'tontine'));

ALTER TABLE compliance_cases DROP CONSTRAINT compliance_cases_kind_check;
ALTER TABLE compliance_cases ADD CONSTRAINT compliance_cases_kind_check CHECK (kind IN ('screening', 'aml', 'tontine'));

CREATE TABLE tontine_circles (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    contribution_minor bigint NOT NULL CHECK (contribution_minor > 0),
    frequency text NOT NULL CHECK (frequency IN ('weekly', 'biweekly', 'monthly')),
    max_members int NOT NULL CHECK (max_members BETWEEN 2 AND 50),
    payout_order text NOT NULL CHECK (payout_order IN ('join', 'random')),
    grace_days int NOT NULL CHECK (grace_days BETWEEN 0 AND 14),
    first_due_date date NOT NULL,
    early_fee_bps int NOT NULL DEFAULT 0 CHECK (early_fee_bps BETWEEN 0 AND 1000),
    state text NOT NULL CHECK (state IN ('forming', 'active', 'completed', 'dissolved')),
    organizer_id uuid REFERENCES members (id),
    pool_account_id uuid NOT NULL UNIQUE REFERENCES accounts (id),
    -- The draw: the SHA-256 of the seed is public from creation; the seed itself from start.
    seed_commitment text NOT NULL CHECK (seed_commitment ~ '^[0-9a-f]{64}$'),
    seed text NOT NULL CHECK (seed ~ '^[0-9a-f]{64}$'),
    created_by uuid NOT NULL,
    created_by_role text NOT NULL,
    started_at timestamptz,
    ended_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tontine_circles_created ON tontine_circles (created_at DESC, id DESC);

-- The state machine again, in SQL (CircleState.next in Swift is the first check).
CREATE FUNCTION check_tontine_transition() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state AND NOT (OLD.state || '>' || NEW.state) = ANY (ARRAY[
        'forming>active', 'forming>dissolved', 'active>completed', 'active>dissolved']) THEN
        RAISE EXCEPTION 'tontine % cannot go from % to %', OLD.id, OLD.state, NEW.state USING ERRCODE = '23514';
    END IF;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$fn$;
CREATE TRIGGER tontine_circles_transition BEFORE UPDATE ON tontine_circles FOR EACH ROW EXECUTE FUNCTION check_tontine_transition();

CREATE TABLE tontine_status_log (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    circle_id uuid NOT NULL REFERENCES tontine_circles (id),
    from_state text,
    to_state text NOT NULL,
    actor uuid,
    actor_role text NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tontine_status_log_circle ON tontine_status_log (circle_id, id);
CREATE TRIGGER tontine_status_log_immutable BEFORE UPDATE OR DELETE ON tontine_status_log FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- A member's place in a circle: one position per member; the position is fixed at start.
CREATE TABLE tontine_members (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    circle_id uuid NOT NULL REFERENCES tontine_circles (id),
    member_id uuid NOT NULL REFERENCES members (id),
    join_seq int NOT NULL CHECK (join_seq BETWEEN 1 AND 50),
    position int CHECK (position BETWEEN 1 AND 50),
    payout_account_id uuid NOT NULL REFERENCES accounts (id),
    autopay_account_id uuid REFERENCES accounts (id),
    joined_at timestamptz NOT NULL,
    -- Set when the member has missed a contribution after being paid (a case is open for staff).
    delinquent_at timestamptz,
    PRIMARY KEY (circle_id, member_id),
    UNIQUE (circle_id, join_seq),
    -- Deferrable: a swap exchanges two positions in one statement.
    UNIQUE (circle_id, position) DEFERRABLE INITIALLY IMMEDIATE
);
CREATE INDEX tontine_members_member ON tontine_members (member_id);

-- Each cycle of an active circle: its due date, recipient and where it stands. `next_action_at` is
-- when the scheduler looks at it next (the start of the due day, the autopay retry at the end of it,
-- the end of grace); NULL once paid or cancelled.
CREATE TABLE tontine_cycles (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    circle_id uuid NOT NULL REFERENCES tontine_circles (id),
    cycle int NOT NULL CHECK (cycle BETWEEN 1 AND 50),
    due_date date NOT NULL,
    recipient_id uuid NOT NULL REFERENCES members (id),
    status text NOT NULL CHECK (status IN ('open', 'short', 'paid', 'cancelled')),
    -- Scheduler phases done (CycleClock): 0 none, 1 the due day's autopay, 2 its retry, 3 end of grace.
    phase smallint NOT NULL DEFAULT 0 CHECK (phase BETWEEN 0 AND 3),
    next_action_at timestamptz,
    payout_minor bigint CHECK (payout_minor >= 0),
    recovered_minor bigint CHECK (recovered_minor >= 0),
    payout_journal_id uuid REFERENCES journals (id),
    paid_at timestamptz,
    PRIMARY KEY (circle_id, cycle),
    CHECK ((status = 'paid') = (payout_journal_id IS NOT NULL))
);
CREATE INDEX tontine_cycles_due ON tontine_cycles (next_action_at) WHERE next_action_at IS NOT NULL;
CREATE INDEX tontine_cycles_recipient ON tontine_cycles (recipient_id);

-- Money into a cycle: a member's contribution (by hand or autopay), or the guarantee's advance of a
-- missing one. One per member and cycle.
CREATE TABLE tontine_contributions (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    circle_id uuid NOT NULL,
    cycle int NOT NULL,
    member_id uuid NOT NULL REFERENCES members (id),
    source text NOT NULL CHECK (source IN ('member', 'autopay', 'guarantee')),
    account_id uuid REFERENCES accounts (id),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    late_fee_minor bigint NOT NULL DEFAULT 0 CHECK (late_fee_minor >= 0),
    late boolean NOT NULL,
    journal_id uuid NOT NULL REFERENCES journals (id),
    refund_journal_id uuid REFERENCES journals (id),
    created_at timestamptz NOT NULL,
    FOREIGN KEY (circle_id, cycle) REFERENCES tontine_cycles (circle_id, cycle),
    CHECK ((source = 'guarantee') = (account_id IS NULL))
);
-- One standing contribution per member and cycle (a refunded one may be paid again).
CREATE UNIQUE INDEX tontine_contributions_once ON tontine_contributions (circle_id, cycle, member_id) WHERE refund_journal_id IS NULL;
CREATE INDEX tontine_contributions_member ON tontine_contributions (member_id, circle_id);

-- What a defaulter owes: the advance and the penalty, and how much of each has been recovered
-- (from their next payments or payout, oldest first).
CREATE TABLE tontine_arrears (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    circle_id uuid NOT NULL,
    -- NULL: booked when the circle was dissolved (what a member received beyond what they paid in).
    cycle int,
    member_id uuid NOT NULL REFERENCES members (id),
    advanced_minor bigint NOT NULL CHECK (advanced_minor >= 0),
    penalty_minor bigint NOT NULL CHECK (penalty_minor >= 0),
    advance_recovered_minor bigint NOT NULL DEFAULT 0,
    penalty_recovered_minor bigint NOT NULL DEFAULT 0,
    -- Why staff advanced it (a short cycle they resolved), when they did.
    note text CHECK (length(note) BETWEEN 1 AND 2000),
    created_at timestamptz NOT NULL,
    FOREIGN KEY (circle_id, cycle) REFERENCES tontine_cycles (circle_id, cycle),
    UNIQUE (circle_id, cycle, member_id),
    CHECK (advance_recovered_minor BETWEEN 0 AND advanced_minor),
    CHECK (penalty_recovered_minor BETWEEN 0 AND penalty_minor)
);
CREATE INDEX tontine_arrears_member ON tontine_arrears (member_id, id);

-- Every movement of a circle's money with its journal: what verify-ledger reconciles the pool,
-- the guarantee and the arrears accounts against.
CREATE TABLE tontine_movements (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    circle_id uuid NOT NULL REFERENCES tontine_circles (id),
    cycle int,
    member_id uuid REFERENCES members (id),
    kind text NOT NULL CHECK (kind IN ('contribution', 'advance', 'payout', 'refund', 'late_fee', 'penalty_booked',
        'advance_recovered', 'penalty_recovered', 'fee_waived')),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    journal_id uuid NOT NULL REFERENCES journals (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX tontine_movements_circle ON tontine_movements (circle_id, kind);
CREATE INDEX tontine_movements_member ON tontine_movements (member_id, kind);
CREATE TRIGGER tontine_movements_immutable BEFORE UPDATE OR DELETE ON tontine_movements FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- A member asks another to swap turns; the other accepts or declines. Both consents are kept.
CREATE TABLE tontine_swaps (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    circle_id uuid NOT NULL REFERENCES tontine_circles (id),
    requester_id uuid NOT NULL REFERENCES members (id),
    counterparty_id uuid NOT NULL REFERENCES members (id),
    requester_cycle int NOT NULL,
    counterparty_cycle int NOT NULL,
    status text NOT NULL CHECK (status IN ('requested', 'accepted', 'declined')),
    requested_at timestamptz NOT NULL,
    decided_at timestamptz,
    decided_by uuid,
    CHECK (requester_id <> counterparty_id)
);
CREATE INDEX tontine_swaps_circle ON tontine_swaps (circle_id, requested_at);
CREATE UNIQUE INDEX tontine_swaps_one_open ON tontine_swaps (circle_id, requester_id, counterparty_id) WHERE status = 'requested';

-- A member's dispute about a cycle's money, resolved by staff with a recorded outcome.
CREATE TABLE tontine_disputes (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    circle_id uuid NOT NULL,
    cycle int NOT NULL,
    member_id uuid NOT NULL REFERENCES members (id),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    status text NOT NULL CHECK (status IN ('open', 'upheld', 'rejected')),
    action text CHECK (action IN ('refund_contribution', 'waive_late_fee')),
    resolution text CHECK (length(resolution) BETWEEN 1 AND 2000),
    resolved_by uuid,
    resolved_by_role text,
    journal_id uuid REFERENCES journals (id),
    opened_at timestamptz NOT NULL,
    resolved_at timestamptz,
    FOREIGN KEY (circle_id, cycle) REFERENCES tontine_cycles (circle_id, cycle),
    CHECK ((status = 'open') = (resolved_at IS NULL)),
    CHECK (action IS NULL OR status = 'upheld')
);
CREATE INDEX tontine_disputes_circle ON tontine_disputes (circle_id, opened_at);

DO $grant$ BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE ON tontine_status_log, tontine_movements FROM %I', current_schema() || '_app');
END $grant$;
