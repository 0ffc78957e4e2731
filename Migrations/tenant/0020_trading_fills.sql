-- Paper trading's fills (issue 21): each fill of an order against one quote (never two on the same
-- quote), at its price, with the mid rate that valued it in CAD, what it cost or brought in CAD and
-- its commission. Cash = starting cash + sells − buys − fees, checked by verify-ledger.
CREATE TABLE trading_fills (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES trading_orders (id),
    account_id uuid NOT NULL REFERENCES trading_accounts (id),
    symbol text NOT NULL,
    side text NOT NULL CHECK (side IN ('buy', 'sell')),
    qty bigint NOT NULL CHECK (qty > 0),
    price_e4 bigint NOT NULL CHECK (price_e4 > 0),
    quote_seq bigint NOT NULL,
    currency char(3) NOT NULL,
    -- In the instrument's currency: a buy's cost rounded up, a sell's proceeds rounded down.
    notional_minor bigint NOT NULL CHECK (notional_minor >= 0),
    -- CAD per one unit of the currency, the mid rate at the fill.
    fx_rate numeric(24, 10) NOT NULL CHECK (fx_rate > 0),
    -- The notional in CAD cents (a buy's rounded up, a sell's down) and the commission on it.
    cad_minor bigint NOT NULL CHECK (cad_minor >= 0),
    fee_minor bigint NOT NULL CHECK (fee_minor >= 0),
    cum_qty bigint NOT NULL CHECK (cum_qty > 0),
    leaves_qty bigint NOT NULL CHECK (leaves_qty >= 0),
    filled_at timestamptz NOT NULL,
    UNIQUE (order_id, quote_seq)
);
CREATE INDEX trading_fills_account ON trading_fills (account_id, filled_at DESC, id DESC);
CREATE TRIGGER trading_fills_immutable BEFORE UPDATE OR DELETE ON trading_fills FOR EACH ROW EXECUTE FUNCTION refuse_change();
