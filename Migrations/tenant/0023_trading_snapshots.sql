-- Paper trading, part 2 (issue 22): each paper account's value in CAD at the cutoff of each trading
-- day (D 23:00 UTC; PortfolioSnapshot in Sources/Trading/Rules), the series the analytics and the
-- leaderboards read. Written once by the data plane's snapshot service, never changed.
CREATE TABLE trading_snapshots (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    account_id uuid NOT NULL REFERENCES trading_accounts (id),
    day date NOT NULL,
    -- Cash (reservations included: they are the account's cash) and the holdings marked at the day's
    -- last price, in CAD cents.
    cash_minor bigint NOT NULL CHECK (cash_minor >= 0),
    holdings_minor bigint NOT NULL CHECK (holdings_minor >= 0),
    value_minor bigint NOT NULL,
    -- The largest single holding's value: the leaderboard's concentration.
    largest_holding_minor bigint NOT NULL DEFAULT 0 CHECK (largest_holding_minor >= 0 AND largest_holding_minor <= holdings_minor),
    -- Symbols held that had no price to mark them with (valued at nothing).
    unpriced text[] NOT NULL DEFAULT '{}',
    taken_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, day),
    CHECK (value_minor = cash_minor + holdings_minor),
    CHECK (extract(isodow FROM day) < 6)
);
CREATE INDEX trading_snapshots_day ON trading_snapshots (day, account_id);
CREATE TRIGGER trading_snapshots_immutable BEFORE UPDATE OR DELETE ON trading_snapshots FOR EACH ROW EXECUTE FUNCTION refuse_change();
