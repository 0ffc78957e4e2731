-- Applied to every tenant schema after its migrations, with search_path set to that schema.
-- Every table gets RLS enabled AND forced (so the owner is bound too) and one policy that reads the
-- tenant setting once per statement (an InitPlan), with no OR escape hatch. A missing or empty
-- app.tenant_id makes the cast fail: the query errors rather than returning rows.
-- Each table is also pinned to its tenant with a CHECK on tenant_id, so a row of another tenant
-- cannot exist in this schema at all: even a session that sets app.tenant_id to another tenant's id
-- finds nothing of that tenant here (and the role cannot reach the other schema).
DO $rls$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t.relname);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t.relname);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', t.relname);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = (SELECT current_setting(''app.tenant_id'')::uuid)) '
            'WITH CHECK (tenant_id = (SELECT current_setting(''app.tenant_id'')::uuid))', t.relname);
        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'tenant_pinned'
                       AND conrelid = format('%I.%I', current_schema(), t.relname)::regclass) THEN
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT tenant_pinned CHECK (tenant_id = %L::uuid)',
                           t.relname, current_setting('app.tenant_id'));
        END IF;
    END LOOP;
END
$rls$;
