-- Issue 25: orders funded through a provider the credit union configured (its `funding` section names a registry
-- connection per way to pay): an Interac e-Transfer money request, or a card PaymentIntent. The worker asks the provider
-- for the request once the order is committed (never inside the order's transaction) and records what the member needs
-- to pay: the provider's reference, and a payment link (Interac) or a client secret (card, shown to that member only).
ALTER TABLE tenant_config DROP CONSTRAINT tenant_config_key_check;
ALTER TABLE tenant_config ADD CONSTRAINT tenant_config_key_check
    CHECK (key IN ('fees', 'branding', 'kyc_limits', 'domains', 'compliance', 'rate_limits', 'tontine', 'lending', 'notifications',
                   'trading', 'payouts', 'funding'));

ALTER TABLE remittances DROP CONSTRAINT remittances_funding_check;
ALTER TABLE remittances ADD CONSTRAINT remittances_funding_check CHECK (funding IN ('account', 'webhook', 'interac', 'card'));
ALTER TABLE remittances
    ADD COLUMN funding_connection text,
    ADD COLUMN funding_reference text CHECK (length(funding_reference) BETWEEN 1 AND 200),
    ADD COLUMN funding_url text CHECK (length(funding_url) BETWEEN 1 AND 2000),
    ADD COLUMN funding_client_secret text CHECK (length(funding_client_secret) BETWEEN 1 AND 500),
    ADD CONSTRAINT remittances_funding_provider CHECK ((funding IN ('interac', 'card')) = (funding_connection IS NOT NULL)),
    ADD CONSTRAINT remittances_funding_provider_reference CHECK (funding_reference IS NULL OR funding_connection IS NOT NULL);
