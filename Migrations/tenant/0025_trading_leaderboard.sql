-- Paper trading, part 2 (issue 22): members' public trading profiles (opt-in: nobody appears
-- without one) and the leaderboard's figures per account and period, recomputed from the daily
-- snapshots when a day is taken, so reading a leaderboard is one indexed query.
CREATE TABLE trading_profiles (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    member_id uuid PRIMARY KEY REFERENCES members (id),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 2 AND 40),
    public boolean NOT NULL,
    copyable boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (public OR NOT copyable)
);
-- One name, one person: "Ada" and "ada " are the same name.
CREATE UNIQUE INDEX trading_profiles_name ON trading_profiles (lower(btrim(display_name)));

CREATE TABLE trading_leaderboard (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    period text NOT NULL CHECK (period IN ('1w', '1m', '3m', 'ytd', 'all')),
    account_id uuid NOT NULL REFERENCES trading_accounts (id),
    member_id uuid NOT NULL REFERENCES members (id),
    -- The last day valued, and the returns the figures rest on.
    as_of date NOT NULL,
    days int NOT NULL CHECK (days >= 1),
    period_return double precision NOT NULL,
    annual_volatility double precision,
    sharpe double precision,
    max_drawdown double precision NOT NULL,
    risk_score int NOT NULL CHECK (risk_score BETWEEN 1 AND 10),
    PRIMARY KEY (period, account_id)
);
CREATE INDEX trading_leaderboard_rank ON trading_leaderboard (period, period_return DESC, member_id);
