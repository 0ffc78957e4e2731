-- Paper trading's market (issue 21): the instruments and their exchanges' rules, each instrument's
-- latest quote (a cache with a 30 s lifetime), and daily bars, partitioned by month. Loaded by
-- `nzila reference load-instruments`; quotes and bars are written by the data plane's market
-- ingestion service (`MarketIngestion`), which is why nzila_app may write those two tables and
-- nothing else here. Prices are integers: ten-thousandths of the instrument's quote unit (`_e4`).
CREATE TABLE reference.instruments (
    symbol text PRIMARY KEY CHECK (symbol ~ '^[A-Z0-9][A-Z0-9.\-]{0,15}$'),
    exchange text NOT NULL CHECK (exchange ~ '^[A-Z]{2,8}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    kind text NOT NULL CHECK (kind IN ('equity', 'index')),
    currency char(3) NOT NULL REFERENCES reference.currencies (code),
    quote_unit text NOT NULL,
    unit_minor bigint NOT NULL CHECK (unit_minor BETWEEN 1 AND 10000),
    -- Band tables as the instruments file writes them: "1" or "0:1000|0.10:500|1.00:100".
    board_lots text NOT NULL,
    ticks text NOT NULL,
    band_bps int CHECK (band_bps BETWEEN 1 AND 5000),
    time_zone text NOT NULL,
    session_open smallint NOT NULL CHECK (session_open BETWEEN 0 AND 1439),
    session_close smallint NOT NULL CHECK (session_close BETWEEN 1 AND 1440 AND session_close > session_open),
    start_price_e4 bigint NOT NULL CHECK (start_price_e4 > 0),
    volatility_bps int NOT NULL CHECK (volatility_bps BETWEEN 1 AND 20000),
    spread_ticks int NOT NULL CHECK (spread_ticks BETWEEN 1 AND 100),
    depth_lots int NOT NULL CHECK (depth_lots BETWEEN 1 AND 10000),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The latest quote of each instrument, and until when it may be used (30 s after it was taken);
-- `reference_e4` is its session's reference price (the previous close), which price bands are around.
CREATE TABLE reference.quotes (
    symbol text PRIMARY KEY REFERENCES reference.instruments (symbol) ON DELETE CASCADE,
    seq bigint NOT NULL,
    quoted_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    bid_e4 bigint NOT NULL CHECK (bid_e4 > 0),
    bid_size bigint NOT NULL CHECK (bid_size >= 0),
    ask_e4 bigint NOT NULL CHECK (ask_e4 > bid_e4),
    ask_size bigint NOT NULL CHECK (ask_size >= 0),
    last_e4 bigint NOT NULL CHECK (last_e4 > 0),
    reference_e4 bigint NOT NULL CHECK (reference_e4 > 0),
    source text NOT NULL
);

-- Daily bars in the exchange's calendar, partitioned by month; the ingestion service creates the
-- partitions ahead (`reference.ensure_bar_partitions`).
CREATE TABLE reference.daily_bars (
    symbol text NOT NULL,
    day date NOT NULL,
    open_e4 bigint NOT NULL CHECK (open_e4 > 0),
    high_e4 bigint NOT NULL,
    low_e4 bigint NOT NULL,
    close_e4 bigint NOT NULL,
    volume bigint NOT NULL CHECK (volume >= 0),
    source text NOT NULL,
    PRIMARY KEY (symbol, day),
    CHECK (low_e4 > 0 AND low_e4 <= open_e4 AND open_e4 <= high_e4 AND low_e4 <= close_e4 AND close_e4 <= high_e4)
) PARTITION BY RANGE (day);

-- Creates the monthly partitions of `reference.daily_bars` from the month of p_from for p_months
-- months (those that exist are left alone). SECURITY DEFINER: creating a partition needs the
-- table's owner; the data plane's role may only call this.
CREATE FUNCTION reference.ensure_bar_partitions(p_from date, p_months int) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
DECLARE
    first date := date_trunc('month', p_from)::date;
    made int := 0;
    name text;
BEGIN
    IF p_months NOT BETWEEN 1 AND 36 THEN
        RAISE EXCEPTION 'p_months must be 1-36' USING ERRCODE = '22023';
    END IF;
    FOR i IN 0 .. p_months - 1 LOOP
        name := 'daily_bars_' || to_char(first + make_interval(months => i), 'YYYY_MM');
        IF to_regclass('reference.' || name) IS NULL THEN
            EXECUTE format('CREATE TABLE reference.%I PARTITION OF reference.daily_bars FOR VALUES FROM (%L) TO (%L)',
                           name, first + make_interval(months => i), first + make_interval(months => i + 1));
            made := made + 1;
        END IF;
    END LOOP;
    RETURN made;
END
$fn$;
REVOKE ALL ON FUNCTION reference.ensure_bar_partitions(date, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reference.ensure_bar_partitions(date, int) TO nzila_app;

GRANT SELECT ON reference.instruments TO nzila_app;
GRANT SELECT, INSERT, UPDATE ON reference.quotes TO nzila_app;
GRANT SELECT, INSERT, UPDATE ON reference.daily_bars TO nzila_app;
