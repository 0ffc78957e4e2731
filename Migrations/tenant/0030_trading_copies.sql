-- Copy trading (issue 22, CopyTrading in Sources/Trading/Rules): a follower copies a leader who opted
-- in (trading_profiles.copyable) through a paper account of its own (kind 'copy'), funded from the
-- follower's main account. The copy's state machine (active → leader_left → stopped) is kept here
-- with its log; each mirrored order carries the leader's order it copies and the copy it belongs to.
ALTER TABLE trading_accounts DROP CONSTRAINT trading_accounts_kind_check;
ALTER TABLE trading_accounts ADD CONSTRAINT trading_accounts_kind_check CHECK (kind IN ('main', 'competition', 'copy'));
-- What a main account holds back for its copies until each is settled: buying power = cash −
-- reserved − allocated. No cash moves: each copy is its own paper account with its allocation.
ALTER TABLE trading_accounts ADD COLUMN allocated_minor bigint NOT NULL DEFAULT 0 CHECK (allocated_minor >= 0);

CREATE TABLE trading_copies (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    follower_id uuid NOT NULL REFERENCES members (id),
    leader_id uuid NOT NULL REFERENCES members (id),
    account_id uuid NOT NULL UNIQUE REFERENCES trading_accounts (id),
    allocated_minor bigint NOT NULL CHECK (allocated_minor > 0),
    stop_loss_pct int NOT NULL CHECK (stop_loss_pct BETWEEN 5 AND 95),
    copy_open_positions boolean NOT NULL,
    state text NOT NULL CHECK (state IN ('active', 'leader_left', 'stopped')),
    stop_reason text CHECK (stop_reason IN ('member', 'stop_loss')),
    close_positions boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    stopped_at timestamptz,
    -- When the stopped copy, holding nothing it can sell, released its allocation on the main account.
    settled_at timestamptz,
    CHECK (follower_id <> leader_id),
    CHECK ((state = 'stopped') = (stop_reason IS NOT NULL) AND (state = 'stopped') = (stopped_at IS NOT NULL)),
    CHECK (settled_at IS NULL OR state = 'stopped')
);
-- One copy of a leader at a time per follower.
CREATE UNIQUE INDEX trading_copies_pair ON trading_copies (follower_id, leader_id) WHERE state <> 'stopped';
CREATE INDEX trading_copies_leader ON trading_copies (leader_id) WHERE state = 'active';
CREATE INDEX trading_copies_follower ON trading_copies (follower_id, created_at DESC, id DESC);

CREATE FUNCTION check_trading_copy_transition() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state AND NOT (OLD.state || '>' || NEW.state) = ANY (ARRAY['active>leader_left', 'active>stopped', 'leader_left>stopped']) THEN
        RAISE EXCEPTION 'copy % cannot go from % to %', OLD.id, OLD.state, NEW.state USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END
$fn$;
CREATE TRIGGER trading_copies_transition BEFORE UPDATE ON trading_copies FOR EACH ROW EXECUTE FUNCTION check_trading_copy_transition();

CREATE TABLE trading_copy_log (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    copy_id uuid NOT NULL REFERENCES trading_copies (id),
    -- started, mirrored, skipped, leader_left, stopped, settled.
    event text NOT NULL CHECK (event IN ('started', 'mirrored', 'skipped', 'leader_left', 'stopped', 'settled')),
    leader_order_id uuid REFERENCES trading_orders (id),
    order_id uuid REFERENCES trading_orders (id),
    detail text NOT NULL CHECK (length(detail) BETWEEN 1 AND 2000),
    created_at timestamptz NOT NULL
);
CREATE INDEX trading_copy_log_copy ON trading_copy_log (copy_id, id);
CREATE TRIGGER trading_copy_log_immutable BEFORE UPDATE OR DELETE ON trading_copy_log FOR EACH ROW EXECUTE FUNCTION refuse_change();

ALTER TABLE trading_orders ADD COLUMN copied_from uuid REFERENCES trading_orders (id);
ALTER TABLE trading_orders ADD COLUMN copy_id uuid REFERENCES trading_copies (id);
CREATE INDEX trading_orders_copied ON trading_orders (copy_id, copied_from) WHERE copy_id IS NOT NULL;

-- A copied leader's fills, queued by the matcher in the fill's transaction and mirrored by the copy
-- guard, each copy in its own transaction (so the matcher never locks a copy's account).
CREATE TABLE trading_copy_fills (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    leader_order_id uuid NOT NULL REFERENCES trading_orders (id),
    created_at timestamptz NOT NULL
);

-- Each copy in the platform's copy index (Migrations/reference/0011) until it is settled.
CREATE FUNCTION index_trading_copy() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF NEW.settled_at IS NULL THEN
        PERFORM trading_index.publish_copy(NEW.id);
    ELSE
        PERFORM trading_index.withdraw_copy(NEW.id);
    END IF;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER trading_copies_indexed AFTER INSERT ON trading_copies FOR EACH ROW EXECUTE FUNCTION index_trading_copy();
CREATE TRIGGER trading_copies_reindexed AFTER UPDATE ON trading_copies FOR EACH ROW
    WHEN (OLD.settled_at IS DISTINCT FROM NEW.settled_at) EXECUTE FUNCTION index_trading_copy();

-- Copy trading notices are a notification category members choose channels for.
ALTER TABLE notification_preferences DROP CONSTRAINT notification_preferences_category_check;
ALTER TABLE notification_preferences ADD CONSTRAINT notification_preferences_category_check
    CHECK (category IN ('remittances', 'deposits', 'large_transactions', 'tontines', 'loans', 'price_alerts', 'copy_trading'));
