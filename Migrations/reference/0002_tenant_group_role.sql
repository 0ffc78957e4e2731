-- One group role carries what every tenant role may read in `reference`. Tenant roles join it at
-- provisioning (a new pg_auth_members row) instead of each adding itself to the ACL of `reference`:
-- concurrent GRANTs on one shared object fail with "tuple concurrently updated", and an ACL with a
-- thousand entries is slow to check.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nzila_tenant') THEN
        CREATE ROLE nzila_tenant NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA reference TO nzila_tenant;
GRANT SELECT ON ALL TABLES IN SCHEMA reference TO nzila_tenant;
ALTER DEFAULT PRIVILEGES IN SCHEMA reference GRANT SELECT ON TABLES TO nzila_tenant;
