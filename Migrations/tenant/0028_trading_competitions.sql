-- Paper trading, part 2 (issue 22): competitions run by the credit union's staff. A member now has
-- several paper accounts: the main one (at most one, as before) and one per competition joined, with
-- the competition's starting cash. A competition account trades only between the start and the end
-- (its orders expire at the end, whatever their time in force); its final value is its snapshot of
-- the competition's last trading day (`final_day`), and once that is taken the results are written
-- here, ranked, and the accounts closed (no order, no further snapshot).
ALTER TABLE trading_accounts ADD COLUMN kind text NOT NULL DEFAULT 'main' CHECK (kind IN ('main', 'competition'));
ALTER TABLE trading_accounts DROP CONSTRAINT trading_accounts_member_id_key;
CREATE UNIQUE INDEX trading_accounts_main ON trading_accounts (member_id) WHERE kind = 'main';
ALTER TABLE trading_accounts ADD COLUMN closed_at timestamptz;

CREATE TABLE trading_competitions (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 2 AND 80),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    -- The last trading day that counts: the latest weekday that began before the end.
    final_day date NOT NULL,
    starting_cash_minor bigint NOT NULL CHECK (starting_cash_minor BETWEEN 100 AND 100000000000),
    -- The most one instrument may weigh in a participant's equity after a buy (10000 = no limit).
    max_position_bps int NOT NULL CHECK (max_position_bps BETWEEN 100 AND 10000),
    late_entry boolean NOT NULL,
    -- An academy course a member must have completed to join.
    required_course text CHECK (required_course ~ '^[a-z0-9][a-z0-9-]{1,63}$'),
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    frozen_at timestamptz,
    CHECK (ends_at > starts_at)
);
CREATE INDEX trading_competitions_recent ON trading_competitions (starts_at DESC, id DESC);
CREATE INDEX trading_competitions_unfrozen ON trading_competitions (final_day) WHERE frozen_at IS NULL;

ALTER TABLE trading_accounts ADD COLUMN competition_id uuid REFERENCES trading_competitions (id);
ALTER TABLE trading_accounts ADD CONSTRAINT trading_accounts_kind_competition CHECK ((kind = 'competition') = (competition_id IS NOT NULL));
CREATE UNIQUE INDEX trading_accounts_competition ON trading_accounts (competition_id, member_id) WHERE competition_id IS NOT NULL;

CREATE TABLE trading_competition_results (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    competition_id uuid NOT NULL REFERENCES trading_competitions (id),
    account_id uuid NOT NULL REFERENCES trading_accounts (id),
    member_id uuid NOT NULL REFERENCES members (id),
    display_name text NOT NULL,
    rank int NOT NULL CHECK (rank >= 1),
    value_minor bigint NOT NULL,
    -- The day the value is from (null: no snapshot before the end, valued at its starting cash).
    as_of date,
    PRIMARY KEY (competition_id, account_id)
);
CREATE INDEX trading_competition_results_rank ON trading_competition_results (competition_id, rank, member_id);
CREATE TRIGGER trading_competition_results_immutable BEFORE UPDATE OR DELETE ON trading_competition_results FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- A competition account's gtc order expires at the competition's end too: every order with an end
-- has expires_at; a day order always has one.
DO $tif$
DECLARE
    rel oid := 'trading_orders'::regclass::oid;
    name text;
BEGIN
    SELECT c.conname INTO name FROM pg_constraint c
    WHERE c.conrelid = rel AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%time_in_force = ''day''%expires_at IS NOT NULL%';
    EXECUTE format('ALTER TABLE trading_orders DROP CONSTRAINT %I', name);
END
$tif$;
ALTER TABLE trading_orders ADD CONSTRAINT trading_orders_day_expires CHECK (time_in_force <> 'day' OR expires_at IS NOT NULL);
