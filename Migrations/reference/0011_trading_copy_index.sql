-- Copy trading across tenants (issue 22), as the alert index (0009): each copy that still needs
-- watching — its stop loss while it mirrors, its settlement once stopped — so the copy guard's
-- sweep opens only the tenants that have one. Written only by the row trigger on each tenant's
-- trading_copies through these SECURITY DEFINER functions (the tenant from app.tenant_id); the data
-- plane reads it.
CREATE TABLE trading_index.copies (
    tenant_id uuid NOT NULL,
    copy_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, copy_id)
);

CREATE FUNCTION trading_index.publish_copy(p_copy uuid)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
    INSERT INTO trading_index.copies (tenant_id, copy_id) VALUES (current_setting('app.tenant_id')::uuid, p_copy) ON CONFLICT DO NOTHING;
$fn$;

CREATE FUNCTION trading_index.withdraw_copy(p_copy uuid)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
    DELETE FROM trading_index.copies WHERE tenant_id = current_setting('app.tenant_id')::uuid AND copy_id = p_copy;
$fn$;

REVOKE ALL ON FUNCTION trading_index.publish_copy(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION trading_index.withdraw_copy(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trading_index.publish_copy(uuid) TO nzila_tenant;
GRANT EXECUTE ON FUNCTION trading_index.withdraw_copy(uuid) TO nzila_tenant;
GRANT SELECT ON trading_index.copies TO nzila_app;
