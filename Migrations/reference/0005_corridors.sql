-- Remittance corridors (issue 8): which currency pairs the platform sends, by which payout methods,
-- through which partners, within which send limits. Loaded by `nzila reference load-corridors`.
CREATE TABLE reference.corridors (
    code text PRIMARY KEY,
    send_currency char(3) NOT NULL REFERENCES reference.currencies (code),
    receive_currency char(3) NOT NULL REFERENCES reference.currencies (code),
    payout_methods text[] NOT NULL CHECK (cardinality(payout_methods) >= 1
        AND payout_methods <@ ARRAY['mobile_money', 'bank_deposit', 'cash_pickup']),
    partners text[] NOT NULL DEFAULT '{}',
    min_send_minor bigint NOT NULL CHECK (min_send_minor > 0),
    max_send_minor bigint NOT NULL CHECK (max_send_minor >= min_send_minor),
    active boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (code = send_currency || '-' || receive_currency)
);

-- Where each mid rate came from: the seed, a loaded file, or a rate feed.
ALTER TABLE reference.fx_rates ADD COLUMN source text NOT NULL DEFAULT 'seed';
