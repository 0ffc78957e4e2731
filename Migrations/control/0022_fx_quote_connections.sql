-- FX fallback providers in the registry (issue 25): a Wise-style quote API, asked for a rate when the platform's own mid
-- rate for a corridor is stale. It serves no payout method and has no payers.
ALTER TABLE control.partner_connections DROP CONSTRAINT partner_connections_kind_check;
ALTER TABLE control.partner_connections ADD CONSTRAINT partner_connections_kind_check
    CHECK (kind IN ('transfers', 'quotations', 'money-requests', 'card-payments', 'identity', 'bank-links', 'fx-quotes'));
ALTER TABLE control.partner_connections DROP CONSTRAINT partner_connections_methods_check;
ALTER TABLE control.partner_connections ADD CONSTRAINT partner_connections_methods_check
    CHECK (CASE WHEN kind IN ('money-requests', 'card-payments', 'identity', 'bank-links', 'fx-quotes') THEN cardinality(methods) = 0 AND payers = '{}'
                ELSE cardinality(methods) BETWEEN 1 AND 3 AND methods <@ ARRAY['mobile_money', 'bank_deposit', 'cash_pickup']::text[] END);
