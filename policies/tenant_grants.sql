-- Applied to every tenant schema after its policies. {{schema}} and {{role}} are replaced by the
-- validated identifiers t_<slug> and t_<slug>_app. The role reaches its own schema, and `reference`
-- read-only through the nzila_tenant group role, nothing else; journals and entries are insert-only.
-- Nothing here changes an object shared by all tenants, so provisioning runs concurrently.
REVOKE ALL ON SCHEMA {{schema}} FROM PUBLIC;
GRANT USAGE ON SCHEMA {{schema}} TO {{role}};
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA {{schema}} TO {{role}};
GRANT DELETE ON {{schema}}.refresh_tokens TO {{role}};
REVOKE UPDATE ON {{schema}}.journals, {{schema}}.entries FROM {{role}};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA {{schema}} TO {{role}};
GRANT nzila_tenant TO {{role}};
GRANT {{role}} TO nzila_app;
