-- Thunes-style payout connections (issue 25): a second kind of API (quotation → transaction → confirm, for cash
-- pickup and bank deposit), the secret its status callbacks are signed with (a reference, like the API key), and the
-- partner's payer (the paying bank, wallet or cash network) for each corridor and method, which its API asks for.
ALTER TABLE control.partner_connections DROP CONSTRAINT partner_connections_kind_check;
ALTER TABLE control.partner_connections ADD CONSTRAINT partner_connections_kind_check CHECK (kind IN ('transfers', 'quotations'));
ALTER TABLE control.partner_connections
    ADD COLUMN callback_secret text CHECK (callback_secret ~ '^(env:[A-Z][A-Z0-9_]{0,63}|file:/[^\s]+)$'),
    ADD COLUMN payers jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payers) = 'object');
