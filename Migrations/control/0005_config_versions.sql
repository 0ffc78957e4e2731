-- Versioned configuration (issue 5): who changed it, in which role, why, and which version a
-- rollback restored. A version never changes once written. The registry row carries the enabled
-- domains, so the data plane -- which caches registry rows and hears of their changes -- refuses a
-- disabled domain's routes without another query.
ALTER TABLE control.tenant_config_versions
    ADD COLUMN reason text NOT NULL DEFAULT 'Provisioned from the template' CHECK (length(reason) BETWEEN 1 AND 500),
    ADD COLUMN author_role text,
    ADD COLUMN rolled_back_from int;

CREATE FUNCTION control.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
END
$fn$;
CREATE TRIGGER tenant_config_versions_immutable BEFORE UPDATE ON control.tenant_config_versions
    FOR EACH ROW EXECUTE FUNCTION control.refuse_change();

ALTER TABLE control.tenants
    ADD COLUMN enabled_domains text[] NOT NULL DEFAULT '{banking,remittance,compliance,tontine,lending,trading}';
UPDATE control.tenants t SET enabled_domains = ARRAY(SELECT jsonb_array_elements_text(v.config -> 'domains'))
FROM control.tenant_config_versions v
WHERE v.tenant_id = t.id AND v.version = (SELECT max(w.version) FROM control.tenant_config_versions w WHERE w.tenant_id = t.id);
GRANT SELECT (enabled_domains) ON control.tenants TO nzila_app;
