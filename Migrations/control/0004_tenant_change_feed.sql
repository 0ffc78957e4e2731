-- Every change to a tenant's registry row or its domains is announced on the `nzila_tenants`
-- channel with the tenant's slug, at COMMIT. Data planes LISTEN on a direct connection (PgBouncer in
-- transaction mode cannot carry LISTEN) and drop their cached entries for that tenant at once, so a
-- suspension, an offboarding, a new domain or a migrated schema is seen in milliseconds; their short
-- cache lifetime is the fallback while the feed is down. A trigger, so no writer can forget it.
CREATE FUNCTION control.announce_tenant_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    changed text;
BEGIN
    IF TG_TABLE_NAME = 'tenants' THEN
        changed := CASE WHEN TG_OP = 'DELETE' THEN OLD.slug ELSE NEW.slug END;
    ELSE
        SELECT t.slug INTO changed FROM control.tenants t
        WHERE t.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
    END IF;
    PERFORM pg_notify('nzila_tenants', coalesce(changed, ''));
    RETURN NULL;
END
$fn$;
CREATE TRIGGER tenants_announce AFTER INSERT OR UPDATE OR DELETE ON control.tenants
    FOR EACH ROW EXECUTE FUNCTION control.announce_tenant_change();
CREATE TRIGGER tenant_domains_announce AFTER INSERT OR UPDATE OR DELETE ON control.tenant_domains
    FOR EACH ROW EXECUTE FUNCTION control.announce_tenant_change();
