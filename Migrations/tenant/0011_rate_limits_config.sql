-- A tenant's configuration may now carry a `rate_limits` section (issue 9): its own request rates,
-- below the platform's ceiling.
ALTER TABLE tenant_config DROP CONSTRAINT tenant_config_key_check;
ALTER TABLE tenant_config ADD CONSTRAINT tenant_config_key_check
    CHECK (key IN ('fees', 'branding', 'kyc_limits', 'domains', 'compliance', 'rate_limits'));
