-- The audit log: who did what to what, when, in which role, for which tenant, under which request,
-- with before and after in `detail`. Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE
-- even by the owner. Tenant roles may only add rows, and only rows of the tenant their transaction is
-- set to (through audit.record below), so a staff action on the data plane is audited in its own
-- transaction.
ALTER TABLE control.audit_log
    ADD COLUMN tenant_id uuid,
    ADD COLUMN actor_role text,
    ADD COLUMN request_id text CHECK (length(request_id) <= 128);
UPDATE control.audit_log a SET tenant_id = t.id FROM control.tenants t WHERE a.target = 'tenant:' || t.slug;
CREATE INDEX audit_log_tenant ON control.audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_actor ON control.audit_log (actor, id DESC);
CREATE INDEX audit_log_action ON control.audit_log (action, id DESC);

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON control.audit_log
    FOR EACH ROW EXECUTE FUNCTION control.refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON control.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION control.refuse_change();

-- The tenant roles' group (reference/0002 makes it too; global migrations run control first).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nzila_tenant') THEN
        CREATE ROLE nzila_tenant NOLOGIN;
    END IF;
END
$$;

-- Nobody but the owner touches the table itself (RLS on, no policy for anyone else).
ALTER TABLE control.audit_log ENABLE ROW LEVEL SECURITY;

-- A tenant role records a staff action only through this function, and only for the tenant its
-- transaction is set to: the tenant id comes from app.tenant_id, never from the caller. Tenant roles
-- get no privilege on the control schema itself.
CREATE SCHEMA audit;
CREATE FUNCTION audit.record(p_actor uuid, p_actor_role text, p_request_id text, p_action text, p_target text, p_detail jsonb)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
    INSERT INTO control.audit_log (tenant_id, actor, actor_role, request_id, action, target, detail)
    VALUES (current_setting('app.tenant_id')::uuid, p_actor, p_actor_role, left(p_request_id, 128), p_action, p_target, coalesce(p_detail, '{}'));
$fn$;
REVOKE ALL ON SCHEMA audit FROM PUBLIC;
REVOKE ALL ON FUNCTION audit.record FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO nzila_tenant;
GRANT EXECUTE ON FUNCTION audit.record TO nzila_tenant;
