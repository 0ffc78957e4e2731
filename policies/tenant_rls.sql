-- Applied to every tenant schema after its migrations, with search_path set to that schema.
-- Every table gets RLS enabled AND forced (so the owner is bound too) and one policy that reads the
-- tenant setting once per statement (an InitPlan), with no OR escape hatch. A missing or empty
-- app.tenant_id makes the cast fail: the query errors rather than returning rows.
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
    END LOOP;
END
$rls$;
