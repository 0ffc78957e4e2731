-- Paper trading, part 2 (issue 22): members' watchlists (named, ordered, several each) and price
-- alerts. An alert fires once, on a fresh crossing of its level between two consecutive quotes,
-- then stays triggered until re-armed (PriceAlerts in Sources/Trading/Rules).
CREATE TABLE trading_watchlists (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    -- In the member's order, each once.
    symbols text[] NOT NULL DEFAULT '{}' CHECK (cardinality(symbols) <= 100),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (member_id, name)
);
CREATE INDEX trading_watchlists_member ON trading_watchlists (member_id, created_at, id);

CREATE TABLE trading_alerts (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    symbol text NOT NULL CHECK (symbol ~ '^[A-Z0-9][A-Z0-9.\-]{0,15}$'),
    condition text NOT NULL CHECK (condition IN ('crosses_above', 'crosses_below')),
    price_e4 bigint NOT NULL CHECK (price_e4 > 0),
    status text NOT NULL CHECK (status IN ('armed', 'triggered')),
    -- The last quote seen was at or beyond the level: it fires when this turns true while armed.
    beyond boolean NOT NULL,
    -- The last price seen (the quote's last trade) and its seq.
    seen_e4 bigint NOT NULL CHECK (seen_e4 > 0),
    seen_seq bigint NOT NULL,
    armed_at timestamptz NOT NULL,
    triggered_at timestamptz,
    triggered_e4 bigint,
    triggered_seq bigint,
    created_at timestamptz NOT NULL,
    CHECK ((status = 'triggered') = (triggered_at IS NOT NULL AND triggered_e4 IS NOT NULL AND triggered_seq IS NOT NULL))
);
CREATE INDEX trading_alerts_member ON trading_alerts (member_id, created_at DESC, id DESC);

-- Each armed alert's entry in the platform's alert index (Migrations/reference/0009).
CREATE FUNCTION index_trading_alert() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM trading_index.withdraw_alert(OLD.id);
        RETURN NULL;
    END IF;
    IF NEW.status = 'armed' THEN
        PERFORM trading_index.publish_alert(NEW.id, NEW.symbol, NEW.condition, NEW.price_e4, NEW.beyond);
    ELSE
        PERFORM trading_index.withdraw_alert(NEW.id);
    END IF;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER trading_alerts_indexed AFTER INSERT OR DELETE ON trading_alerts FOR EACH ROW EXECUTE FUNCTION index_trading_alert();
CREATE TRIGGER trading_alerts_reindexed AFTER UPDATE ON trading_alerts FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.beyond IS DISTINCT FROM NEW.beyond OR OLD.price_e4 IS DISTINCT FROM NEW.price_e4)
    EXECUTE FUNCTION index_trading_alert();
