-- Funding providers in the same registry (issue 25): an Interac e-Transfer request-money API (`money-requests`) and a
-- Stripe-style PaymentIntents API for cards (`card-payments`). They take money in rather than pay out, so they serve
-- no payout method and have no payers; their callback secret is the provider's webhook signing secret.
ALTER TABLE control.partner_connections DROP CONSTRAINT partner_connections_kind_check;
ALTER TABLE control.partner_connections ADD CONSTRAINT partner_connections_kind_check
    CHECK (kind IN ('transfers', 'quotations', 'money-requests', 'card-payments'));
ALTER TABLE control.partner_connections DROP CONSTRAINT partner_connections_methods_check;
ALTER TABLE control.partner_connections ADD CONSTRAINT partner_connections_methods_check
    CHECK (CASE WHEN kind IN ('money-requests', 'card-payments') THEN cardinality(methods) = 0 AND payers = '{}'
                ELSE cardinality(methods) BETWEEN 1 AND 3 AND methods <@ ARRAY['mobile_money', 'bank_deposit', 'cash_pickup']::text[] END);
