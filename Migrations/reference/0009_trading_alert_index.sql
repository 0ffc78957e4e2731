-- Paper trading's price alerts across tenants (issue 22), as the trigger index of working orders
-- (0007): each armed alert reduced to its symbol, condition, level and which side of the level the
-- last quote it saw was on, so one query per quote tick finds the alerts a quote crosses without
-- opening every tenant's schema. Written only by the row trigger on each tenant's trading_alerts
-- through these SECURITY DEFINER functions (the tenant from app.tenant_id); the data plane reads it.
CREATE TABLE trading_index.alerts (
    tenant_id uuid NOT NULL,
    alert_id uuid NOT NULL,
    symbol text NOT NULL,
    condition text NOT NULL CHECK (condition IN ('crosses_above', 'crosses_below')),
    price_e4 bigint NOT NULL CHECK (price_e4 > 0),
    -- The last quote seen was at or beyond the level (at or above it for crosses_above, at or below
    -- it for crosses_below).
    beyond boolean NOT NULL,
    PRIMARY KEY (tenant_id, alert_id)
);
CREATE INDEX alerts_symbol ON trading_index.alerts (symbol, condition, price_e4);

CREATE FUNCTION trading_index.publish_alert(p_alert uuid, p_symbol text, p_condition text, p_price bigint, p_beyond boolean)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
    INSERT INTO trading_index.alerts (tenant_id, alert_id, symbol, condition, price_e4, beyond)
    VALUES (current_setting('app.tenant_id')::uuid, p_alert, p_symbol, p_condition, p_price, p_beyond)
    ON CONFLICT (tenant_id, alert_id) DO UPDATE SET symbol = EXCLUDED.symbol, condition = EXCLUDED.condition, price_e4 = EXCLUDED.price_e4,
        beyond = EXCLUDED.beyond;
$fn$;

CREATE FUNCTION trading_index.withdraw_alert(p_alert uuid)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
    DELETE FROM trading_index.alerts WHERE tenant_id = current_setting('app.tenant_id')::uuid AND alert_id = p_alert;
$fn$;

REVOKE ALL ON FUNCTION trading_index.publish_alert(uuid, text, text, bigint, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION trading_index.withdraw_alert(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trading_index.publish_alert(uuid, text, text, bigint, boolean) TO nzila_tenant;
GRANT EXECUTE ON FUNCTION trading_index.withdraw_alert(uuid) TO nzila_tenant;
GRANT SELECT ON trading_index.alerts TO nzila_app;
