-- Applied to every tenant schema after its migrations, with search_path set to that schema.
-- Every table gets RLS enabled AND forced (so the owner is bound too) and one policy that reads the
-- tenant setting once per statement (an InitPlan), with no OR escape hatch. A missing or empty
-- app.tenant_id makes the cast fail: the query errors rather than returning rows.
-- Each table is also pinned to its tenant with a CHECK on tenant_id, so a row of another tenant
-- cannot exist in this schema at all: even a session that sets app.tenant_id to another tenant's id
-- finds nothing of that tenant here (and the role cannot reach the other schema).
-- {{tables}} is the list of tables the tenant migrations create (SQLCatalog reads it from their
-- CREATE TABLE statements), so no step scans pg_class, which grows with every tenant; the provisioning
-- test checks that every table of the schema ended up with forced RLS and the policy.
DO $rls$
DECLARE
    tbl text;
    rel oid;
BEGIN
    FOREACH tbl IN ARRAY {{tables}}
    LOOP
        -- Resolved into a variable first: compared with an expression, pg_constraint is scanned whole.
        rel := format('%I', tbl)::regclass::oid;
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY%s', tbl,
            CASE WHEN EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = rel AND conname = 'tenant_pinned')
                 THEN ''
                 ELSE format(', ADD CONSTRAINT tenant_pinned CHECK (tenant_id = %L::uuid)', current_setting('app.tenant_id')) END);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', tbl);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = (SELECT current_setting(''app.tenant_id'')::uuid)) '
            'WITH CHECK (tenant_id = (SELECT current_setting(''app.tenant_id'')::uuid))', tbl);
    END LOOP;
END
$rls$;
