-- Members' login throttling and refresh-token families, as for staff in control (control/0008).
CREATE TABLE login_failures (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    email text PRIMARY KEY CHECK (length(email) <= 254),
    failures int NOT NULL CHECK (failures >= 0),
    last_failure_at timestamptz NOT NULL,
    locked_until timestamptz
);

ALTER TABLE refresh_tokens ADD COLUMN family uuid NOT NULL DEFAULT gen_random_uuid(), ADD COLUMN used_at timestamptz;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
