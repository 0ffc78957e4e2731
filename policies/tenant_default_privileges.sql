-- Applied as soon as the tenant schema exists, before any table. {{schema}} and {{role}} are the
-- validated identifiers t_<slug> and t_<slug>_app. Tables and sequences that nzila_owner creates in the
-- schema from then on (at provisioning and in every later migration) are granted to the tenant role as
-- they are created, so nothing has to scan the catalog for "ALL TABLES IN SCHEMA" (a full pg_class scan
-- that grows with every tenant).
ALTER DEFAULT PRIVILEGES FOR ROLE nzila_owner IN SCHEMA {{schema}} GRANT SELECT, INSERT, UPDATE ON TABLES TO {{role}};
ALTER DEFAULT PRIVILEGES FOR ROLE nzila_owner IN SCHEMA {{schema}} GRANT USAGE ON SEQUENCES TO {{role}};
