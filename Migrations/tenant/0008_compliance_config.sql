-- A tenant's configuration may now carry a `compliance` section (screening and AML thresholds).
ALTER TABLE tenant_config DROP CONSTRAINT tenant_config_key_check;
ALTER TABLE tenant_config ADD CONSTRAINT tenant_config_key_check CHECK (key IN ('fees', 'branding', 'kyc_limits', 'domains', 'compliance'));
