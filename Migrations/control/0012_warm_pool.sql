-- Warm pool (issue 6): tenant schemas built ahead of demand at the current version, unclaimed.
-- Each is pinned to the tenant id it will become (its tenant_pinned CHECKs name it), so a claim only
-- renames its schema and role, re-pins its functions' search_path and writes the registry row.
-- A rollout migrates them like tenants (the version lives here until the claim); a claim takes only
-- one at the claiming build's version, skipping rows a rollout or another claim holds.
CREATE TABLE control.warm_schemas (
    id uuid PRIMARY KEY,
    schema_name text NOT NULL UNIQUE CHECK (schema_name ~ '^nzila_warm_[0-9a-f]{32}$'),
    role_name text NOT NULL UNIQUE CHECK (role_name = schema_name || '_app'),
    schema_version int NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX warm_schemas_claim ON control.warm_schemas (schema_version, created_at);

-- The tenant schema version a full rollout (`nzila migrate apply` without --only) brought the fleet
-- to, written while it holds provisioning back. A build that ships an older version creates no tenant
-- schema from then on (it would be left behind); a newer server does.
CREATE TABLE control.fleet_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    tenant_schema_version int NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
