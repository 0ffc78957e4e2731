-- Payout partner connections (issue 25): the platform's registry of the providers a data plane can
-- pay through, beside the built-in sandbox partners. A connection's credential is a reference the
-- key provider resolves on the data plane's machine (env:NAME or file:/path), never the secret: the
-- database, its backups and the audit log never hold a partner's API key.
CREATE TABLE control.partner_connections (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9-]{1,39}$' AND name NOT LIKE 'sandbox-%'),
    kind text NOT NULL CHECK (kind IN ('transfers')),
    base_url text NOT NULL CHECK (base_url ~ '^https?://[^/?#@\s]+(/[^?#\s]*)?$'),
    credential text NOT NULL CHECK (credential ~ '^(env:[A-Z][A-Z0-9_]{0,63}|file:/[^\s]+)$'),
    methods text[] NOT NULL CHECK (cardinality(methods) BETWEEN 1 AND 3
        AND methods <@ ARRAY['mobile_money', 'bank_deposit', 'cash_pickup']::text[]),
    timeout_ms integer NOT NULL CHECK (timeout_ms BETWEEN 100 AND 120000),
    attempts integer NOT NULL CHECK (attempts BETWEEN 1 AND 5),
    added_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Data planes build their partners from it when they start.
GRANT SELECT ON control.partner_connections TO nzila_app;
