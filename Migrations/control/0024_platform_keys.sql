-- Issue 26: the platform key, wrapped by the master key's provider (an environment variable, a file, or a key service
-- speaking Vault's transit API). It seals what the platform keeps for itself (token-signing keys, webhook secrets,
-- push tokens) and derives per-tenant secrets; tenants' data keys are wrapped by the provider directly. The first
-- start with a local master makes the platform key the master itself, so what earlier builds sealed keeps opening;
-- `nzila keys rotate-master` re-wraps this row and every tenant's data keys under a new master.
CREATE TABLE control.platform_keys (
    id int PRIMARY KEY CHECK (id >= 1),
    wrapped bytea NOT NULL,
    provider text NOT NULL CHECK (provider IN ('local', 'vault')),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    rewrapped_at timestamptz
);
GRANT SELECT ON control.platform_keys TO nzila_app;
