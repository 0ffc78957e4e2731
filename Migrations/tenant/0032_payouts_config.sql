-- Issue 25: a tenant chooses its payout partners per corridor and method in a `payouts` section.
ALTER TABLE tenant_config DROP CONSTRAINT tenant_config_key_check;
ALTER TABLE tenant_config ADD CONSTRAINT tenant_config_key_check
    CHECK (key IN ('fees', 'branding', 'kyc_limits', 'domains', 'compliance', 'rate_limits', 'tontine', 'lending', 'notifications',
                   'trading', 'payouts'));
