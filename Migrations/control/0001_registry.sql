-- The control schema: tenant registry, identity, signing keys, idempotency, audit.
CREATE SCHEMA control;

CREATE TABLE control.schema_migrations (
    kind text NOT NULL,
    version int NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, version)
);

CREATE TABLE control.tenants (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9_]{2,39}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'offboarded')),
    template text NOT NULL,
    schema_name text NOT NULL UNIQUE,
    role_name text NOT NULL UNIQUE,
    pool_group int NOT NULL CHECK (pool_group >= 0),
    schema_version int NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tenants_created ON control.tenants (created_at DESC, id DESC);
CREATE INDEX tenants_pool_group ON control.tenants (pool_group);

-- Custom hostnames that resolve to a tenant on the data plane.
CREATE TABLE control.tenant_domains (
    hostname text PRIMARY KEY CHECK (hostname = lower(hostname)),
    tenant_id uuid NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE
);

-- Every configuration the tenant has had; the highest version is current.
CREATE TABLE control.tenant_config_versions (
    tenant_id uuid NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    version int NOT NULL,
    config jsonb NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, version)
);

-- Platform admins (tenant_id NULL) and tenant staff.
CREATE TABLE control.users (
    id uuid PRIMARY KEY,
    email text NOT NULL CHECK (email = lower(email)),
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('platform_admin', 'tenant_admin', 'compliance_officer', 'teller', 'auditor')),
    tenant_id uuid REFERENCES control.tenants (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((role = 'platform_admin') = (tenant_id IS NULL)),
    UNIQUE (email)
);

CREATE TABLE control.refresh_tokens (
    token_sha256 bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES control.users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);

-- ES256 keys; the private key is sealed with AES-GCM under the master key, which is not in the database.
CREATE TABLE control.signing_keys (
    kid text PRIMARY KEY,
    private_key_sealed bytea NOT NULL,
    x text NOT NULL,
    y text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Idempotency-Key records of control-plane POSTs; the response is stored in the same transaction
-- as the work, so a key either names a finished request or none.
CREATE TABLE control.idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_sha256 bytea NOT NULL,
    status int NOT NULL,
    body bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (scope, key)
);

CREATE TABLE control.audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor uuid,
    action text NOT NULL,
    target text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'
);

-- The data plane reads only what it needs to resolve tenants and verify tokens.
GRANT USAGE ON SCHEMA control TO nzila_app;
GRANT SELECT (id, slug, status, schema_name, role_name, pool_group, schema_version) ON control.tenants TO nzila_app;
GRANT SELECT ON control.tenant_domains TO nzila_app;
GRANT SELECT ON control.signing_keys TO nzila_app;
