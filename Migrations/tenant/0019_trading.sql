-- Paper trading (issue 21): members' paper accounts, their orders, fills and positions. Paper money
-- is not the credit union's: none of it touches the ledger. It is kept as rigorously: cash and
-- reservations are CAD cents that never go negative, a reservation never exceeds the cash, and
-- (next) only fills move cash and positions, in one transaction. Prices are ten-thousandths of the
-- instrument's quote unit (`_e4`).
CREATE TABLE trading_accounts (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL UNIQUE REFERENCES members (id),
    starting_cash_minor bigint NOT NULL CHECK (starting_cash_minor >= 0),
    cash_minor bigint NOT NULL CHECK (cash_minor >= 0),
    -- What open buy orders hold back: buying power = cash − reserved.
    reserved_minor bigint NOT NULL DEFAULT 0 CHECK (reserved_minor >= 0),
    fees_minor bigint NOT NULL DEFAULT 0 CHECK (fees_minor >= 0),
    created_at timestamptz NOT NULL,
    CHECK (reserved_minor <= cash_minor)
);

CREATE TABLE trading_orders (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES trading_accounts (id),
    member_id uuid NOT NULL REFERENCES members (id),
    client_order_id text CHECK (length(client_order_id) BETWEEN 1 AND 128),
    symbol text NOT NULL CHECK (symbol ~ '^[A-Z0-9][A-Z0-9.\-]{0,15}$'),
    side text NOT NULL CHECK (side IN ('buy', 'sell')),
    type text NOT NULL CHECK (type IN ('market', 'limit', 'stop', 'stop_limit')),
    qty bigint NOT NULL CHECK (qty > 0),
    filled_qty bigint NOT NULL DEFAULT 0 CHECK (filled_qty >= 0),
    limit_e4 bigint CHECK (limit_e4 > 0),
    stop_e4 bigint CHECK (stop_e4 > 0),
    time_in_force text NOT NULL CHECK (time_in_force IN ('day', 'gtc')),
    status text NOT NULL CHECK (status IN ('new', 'partially_filled', 'filled', 'canceled', 'expired', 'rejected', 'replaced')),
    elected boolean NOT NULL DEFAULT false,
    last_quote_seq bigint,
    -- A working buy's CAD held back on its account; zero once it stops working.
    reserved_minor bigint NOT NULL DEFAULT 0 CHECK (reserved_minor >= 0),
    -- A day order's end: its exchange's close, in platform time.
    expires_at timestamptz,
    replaces uuid REFERENCES trading_orders (id),
    replaced_by uuid REFERENCES trading_orders (id),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (account_id, client_order_id),
    CHECK (filled_qty <= qty),
    CHECK ((type IN ('limit', 'stop_limit')) = (limit_e4 IS NOT NULL)),
    CHECK ((type IN ('stop', 'stop_limit')) = (stop_e4 IS NOT NULL)),
    CHECK ((time_in_force = 'day') = (expires_at IS NOT NULL)),
    CHECK (status IN ('new', 'partially_filled') OR reserved_minor = 0)
);
CREATE INDEX trading_orders_account ON trading_orders (account_id, created_at DESC, id DESC);
CREATE INDEX trading_orders_working ON trading_orders (symbol, created_at, id) WHERE status IN ('new', 'partially_filled');
CREATE INDEX trading_orders_expiring ON trading_orders (expires_at) WHERE status IN ('new', 'partially_filled') AND expires_at IS NOT NULL;

-- The status machine again, in SQL (OrderStatus.next in Swift is the first check).
CREATE FUNCTION check_trading_order_transition() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (OLD.status || '>' || NEW.status) = ANY (ARRAY[
        'new>partially_filled', 'new>filled', 'new>canceled', 'new>expired', 'new>rejected', 'new>replaced',
        'partially_filled>filled', 'partially_filled>canceled', 'partially_filled>expired', 'partially_filled>replaced']) THEN
        RAISE EXCEPTION 'order % cannot go from % to %', OLD.id, OLD.status, NEW.status USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END
$fn$;
CREATE TRIGGER trading_orders_transition BEFORE UPDATE ON trading_orders FOR EACH ROW EXECUTE FUNCTION check_trading_order_transition();

CREATE TABLE trading_order_log (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES trading_orders (id),
    from_status text,
    to_status text NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    created_at timestamptz NOT NULL
);
CREATE INDEX trading_order_log_order ON trading_order_log (order_id, id);
CREATE TRIGGER trading_order_log_immutable BEFORE UPDATE OR DELETE ON trading_order_log FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Holdings at average cost (Position in Sources/Trading/Rules): exact basis in the quote unit, the
-- same in CAD at each buy's rate, and what has been realised.
CREATE TABLE trading_positions (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    account_id uuid NOT NULL REFERENCES trading_accounts (id),
    symbol text NOT NULL,
    qty bigint NOT NULL CHECK (qty >= 0),
    basis_e4 bigint NOT NULL CHECK (basis_e4 >= 0),
    basis_cad_minor bigint NOT NULL CHECK (basis_cad_minor >= 0),
    realised_e4 bigint NOT NULL DEFAULT 0,
    realised_cad_minor bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, symbol),
    CHECK (qty > 0 OR (basis_e4 = 0 AND basis_cad_minor = 0))
);
