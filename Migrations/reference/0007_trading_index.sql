-- Paper trading's platform trigger index (issue 21, docs/TRADING.md "Scale"): every tenant's
-- working orders, each reduced to what decides whether a quote can make it trade, so one query per
-- tick finds the (tenant, symbol) books a quote concerns without opening every tenant's schema.
--
-- Tenant roles never read it: a row trigger on each tenant's trading_orders writes the order's
-- own row through `trading_index.publish` / `withdraw`, SECURITY DEFINER functions that take the
-- tenant from the transaction's app.tenant_id (as audit.record does), never from the caller. Each
-- order's row is written under that order's row lock, so concurrent orders never overwrite each
-- other's entries. The data plane's matcher (nzila_app) only reads it.
CREATE SCHEMA trading_index;
REVOKE ALL ON SCHEMA trading_index FROM PUBLIC;

CREATE TABLE trading_index.working_orders (
    tenant_id uuid NOT NULL,
    order_id uuid NOT NULL,
    symbol text NOT NULL,
    -- any: trades at whatever price (a market order, an elected stop); buy_limit / sell_limit: a
    -- limit or elected stop-limit at price_e4; buy_stop / sell_stop: a stop not yet elected.
    trigger text NOT NULL CHECK (trigger IN ('any', 'buy_limit', 'sell_limit', 'buy_stop', 'sell_stop')),
    price_e4 bigint CHECK (price_e4 > 0),
    -- The last quote the order met: a quote it has met concerns it no more.
    last_quote_seq bigint,
    -- A day order's end.
    expires_at timestamptz,
    PRIMARY KEY (tenant_id, order_id),
    CHECK ((trigger = 'any') = (price_e4 IS NULL))
);
CREATE INDEX working_orders_trigger ON trading_index.working_orders (symbol, trigger, price_e4);
CREATE INDEX working_orders_expiry ON trading_index.working_orders (expires_at) WHERE expires_at IS NOT NULL;

CREATE FUNCTION trading_index.publish(p_order uuid, p_symbol text, p_trigger text, p_price bigint, p_seq bigint, p_expires timestamptz)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
    INSERT INTO trading_index.working_orders (tenant_id, order_id, symbol, trigger, price_e4, last_quote_seq, expires_at)
    VALUES (current_setting('app.tenant_id')::uuid, p_order, p_symbol, p_trigger, p_price, p_seq, p_expires)
    ON CONFLICT (tenant_id, order_id) DO UPDATE SET symbol = EXCLUDED.symbol, trigger = EXCLUDED.trigger, price_e4 = EXCLUDED.price_e4,
        last_quote_seq = EXCLUDED.last_quote_seq, expires_at = EXCLUDED.expires_at;
$fn$;

CREATE FUNCTION trading_index.withdraw(p_order uuid)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
    DELETE FROM trading_index.working_orders WHERE tenant_id = current_setting('app.tenant_id')::uuid AND order_id = p_order;
$fn$;

REVOKE ALL ON FUNCTION trading_index.publish(uuid, text, text, bigint, bigint, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION trading_index.withdraw(uuid) FROM PUBLIC;
GRANT USAGE ON SCHEMA trading_index TO nzila_tenant, nzila_app;
GRANT EXECUTE ON FUNCTION trading_index.publish(uuid, text, text, bigint, bigint, timestamptz) TO nzila_tenant;
GRANT EXECUTE ON FUNCTION trading_index.withdraw(uuid) TO nzila_tenant;
GRANT SELECT ON trading_index.working_orders TO nzila_app;
