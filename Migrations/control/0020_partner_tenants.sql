-- Which credit unions may name a partner connection (issue 25). A funding or identity provider is usually one credit
-- union's own merchant account: another tenant naming it would send its members' card payments to that account. NULL:
-- every tenant (a partner the platform contracted for all, such as a payout network).
ALTER TABLE control.partner_connections
    ADD COLUMN tenants text[] CHECK (tenants IS NULL OR cardinality(tenants) BETWEEN 1 AND 1000);
