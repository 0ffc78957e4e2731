-- Issue 25: a member's linked external bank accounts (Plaid-style bank linking through the connection the tenant's
-- `funding.bank_link` names). The item's access token reads the member's bank: it is sealed under the tenant's data key,
-- bound to the tenant and the link, and erased when the link is removed. The accounts are what the provider listed when
-- the member linked (no balances: those are read live, when asked).
CREATE TABLE bank_links (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    connection text NOT NULL CHECK (length(connection) BETWEEN 2 AND 40),
    item_id text NOT NULL CHECK (length(item_id) BETWEEN 1 AND 200),
    token_sealed bytea,
    key_id int REFERENCES tenant_data_keys (id),
    status text NOT NULL CHECK (status IN ('active', 'login_required', 'removed')),
    accounts jsonb NOT NULL CHECK (jsonb_typeof(accounts) = 'array'),
    linked_by uuid NOT NULL,
    linked_role text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (connection, item_id),
    CHECK ((token_sealed IS NULL) = (key_id IS NULL)),
    CHECK ((status = 'removed') = (token_sealed IS NULL))
);
CREATE INDEX bank_links_member ON bank_links (member_id, created_at DESC);
