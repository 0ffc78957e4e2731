-- Offboarding (issue 5): when a tenant was offboarded and purged, and the exports that must exist
-- and verify before its role and schema may be dropped.
ALTER TABLE control.tenants ADD COLUMN offboarded_at timestamptz, ADD COLUMN purged_at timestamptz;

CREATE TABLE control.tenant_exports (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES control.tenants (id),
    path text NOT NULL,
    manifest_sha256 text NOT NULL CHECK (manifest_sha256 ~ '^[0-9a-f]{64}$'),
    tables int NOT NULL,
    rows bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tenant_exports_tenant ON control.tenant_exports (tenant_id, created_at DESC);
