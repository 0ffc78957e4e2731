-- The last failure of each tenant a rollout could not migrate (issue 6): `nzila migrate status` shows
-- them; a later successful migration of the tenant removes its row.
CREATE TABLE control.tenant_migration_failures (
    tenant_id uuid PRIMARY KEY REFERENCES control.tenants (id),
    version int NOT NULL,
    error text NOT NULL,
    attempts int NOT NULL DEFAULT 1,
    failed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
