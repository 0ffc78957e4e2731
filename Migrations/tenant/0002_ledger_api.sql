-- Idempotency-Key records of the tenant's money-moving requests (API.md): the response is stored in
-- the same transaction as the posting, so a key names a committed request or nothing.
CREATE TABLE idempotency_keys (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    scope text NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_sha256 bytea NOT NULL,
    status int NOT NULL,
    body bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
