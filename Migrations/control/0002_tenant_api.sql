-- Single-round-trip reads for hot paths. Each function takes the session's identity first
-- (role, schema, tenant id, member id), applies it with set_config(..., true) -- transaction-local, so it
-- reverts when the implicit transaction of the call ends -- and only then runs its query, planned and
-- checked under the tenant role, its search_path and forced RLS. SECURITY INVOKER (the default): the
-- caller (nzila_app) has no tenant privileges of its own, so the function can reach nothing the tenant
-- role could not.
CREATE SCHEMA tenant_api;

CREATE FUNCTION tenant_api.enter(p_role text, p_schema text, p_tenant uuid, p_member uuid) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    IF p_role !~ '^t_[a-z][a-z0-9_]{2,39}_app$' OR p_schema <> left(p_role, -4) THEN
        RAISE EXCEPTION 'not a tenant role: %', p_role USING ERRCODE = '42501';
    END IF;
    PERFORM set_config('role', p_role, true), set_config('search_path', p_schema, true),
            set_config('app.tenant_id', p_tenant::text, true), set_config('app.member_id', coalesce(p_member::text, ''), true);
END
$fn$;

-- GET /v1/accounts/{id}: a member (p_member set) sees only their own account; staff (NULL) any.
CREATE FUNCTION tenant_api.account_by_id(p_role text, p_schema text, p_tenant uuid, p_member uuid, p_id uuid)
RETURNS TABLE (id uuid, member_id uuid, kind text, currency text, status text, balance_minor bigint, held_minor bigint, name text, created_at timestamptz)
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM tenant_api.enter(p_role, p_schema, p_tenant, p_member);
    RETURN QUERY EXECUTE
        'SELECT a.id, a.member_id, a.kind, a.currency::text, a.status, a.balance_minor, a.held_minor, a.name, a.created_at
         FROM accounts a WHERE a.id = $1 AND ($2::uuid IS NULL OR a.member_id = $2)'
        USING p_id, p_member;
END
$fn$;

REVOKE ALL ON SCHEMA tenant_api FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA tenant_api FROM PUBLIC;
GRANT USAGE ON SCHEMA tenant_api TO nzila_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tenant_api TO nzila_app;
