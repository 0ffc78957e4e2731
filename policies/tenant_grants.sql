-- Applied to every tenant schema after its tables and policies (tenant_default_privileges.sql already
-- granted SELECT, INSERT, UPDATE on each table as it was created). {{schema}} and {{role}} are the
-- validated identifiers t_<slug> and t_<slug>_app. The role reaches its own schema, and `reference`
-- read-only through the nzila_tenant group role, nothing else; journals and entries are insert-only.
-- Nothing here changes an object shared by all tenants, so provisioning runs concurrently.
GRANT USAGE ON SCHEMA {{schema}} TO {{role}};
GRANT DELETE ON {{schema}}.refresh_tokens TO {{role}};
REVOKE UPDATE ON {{schema}}.journals, {{schema}}.entries, {{schema}}.account_status_changes FROM {{role}};
GRANT nzila_tenant TO {{role}};
GRANT {{role}} TO nzila_app;
-- The event relay purges published events past their retention (Migrations/tenant/0015).
GRANT DELETE ON {{schema}}.outbox_events TO {{role}};
-- Finished webhook deliveries are purged after their retention (Migrations/tenant/0016).
GRANT DELETE ON {{schema}}.webhook_deliveries, {{schema}}.webhook_attempts TO {{role}};
-- Members remove their devices (Migrations/tenant/0017).
GRANT DELETE ON {{schema}}.devices TO {{role}};
-- Members delete their watchlists and price alerts (Migrations/tenant/0024).
GRANT DELETE ON {{schema}}.trading_watchlists, {{schema}}.trading_alerts TO {{role}};
-- Members stop following (Migrations/tenant/0026).
GRANT DELETE ON {{schema}}.trading_follows TO {{role}};
-- The copy guard removes the leader fills it has mirrored (Migrations/tenant/0030).
GRANT DELETE ON {{schema}}.trading_copy_fills TO {{role}};
