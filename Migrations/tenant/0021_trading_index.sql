-- Each working order's entry in the platform's trigger index (Migrations/reference/0007), written
-- by the database in the statement that changes the order: placed, elected, met a quote, filled,
-- canceled, expired or replaced. `Matching.trigger` in Swift is the same reduction.
CREATE FUNCTION publish_trading_order(
    p_id uuid, p_symbol text, p_status text, p_type text, p_side text, p_elected boolean, p_limit bigint, p_stop bigint, p_seq bigint, p_expires timestamptz
) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF p_status NOT IN ('new', 'partially_filled') THEN
        PERFORM trading_index.withdraw(p_id);
    ELSIF p_type = 'market' OR (p_type = 'stop' AND p_elected) THEN
        PERFORM trading_index.publish(p_id, p_symbol, 'any', NULL, p_seq, p_expires);
    ELSIF p_type = 'limit' OR (p_type = 'stop_limit' AND p_elected) THEN
        PERFORM trading_index.publish(p_id, p_symbol, p_side || '_limit', p_limit, p_seq, p_expires);
    ELSE
        PERFORM trading_index.publish(p_id, p_symbol, p_side || '_stop', p_stop, p_seq, p_expires);
    END IF;
END
$fn$;

CREATE FUNCTION index_trading_order() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    PERFORM publish_trading_order(NEW.id, NEW.symbol, NEW.status, NEW.type, NEW.side, NEW.elected, NEW.limit_e4, NEW.stop_e4, NEW.last_quote_seq, NEW.expires_at);
    RETURN NULL;
END
$fn$;
CREATE TRIGGER trading_orders_indexed AFTER INSERT ON trading_orders FOR EACH ROW EXECUTE FUNCTION index_trading_order();
CREATE TRIGGER trading_orders_reindexed AFTER UPDATE ON trading_orders FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.elected IS DISTINCT FROM NEW.elected OR OLD.last_quote_seq IS DISTINCT FROM NEW.last_quote_seq)
    EXECUTE FUNCTION index_trading_order();

-- The orders already working when this arrives.
DO $backfill$ BEGIN
    PERFORM publish_trading_order(id, symbol, status, type, side, elected, limit_e4, stop_e4, last_quote_seq, expires_at)
    FROM trading_orders WHERE status IN ('new', 'partially_filled');
END $backfill$;
