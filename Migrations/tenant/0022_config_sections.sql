-- The `notifications` (issue 20) and `trading` (issue 21) sections were validated by the control
-- plane but refused by this constraint when a tenant saved them: every configuration change that
-- included either failed as an invariant violation. Allow every section the platform declares.
ALTER TABLE tenant_config DROP CONSTRAINT tenant_config_key_check;
ALTER TABLE tenant_config ADD CONSTRAINT tenant_config_key_check
    CHECK (key IN ('fees', 'branding', 'kyc_limits', 'domains', 'compliance', 'rate_limits', 'tontine', 'lending', 'notifications', 'trading'));
