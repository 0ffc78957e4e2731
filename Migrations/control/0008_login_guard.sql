-- Login throttling (issue 5): failed logins per email -- whether or not a user has it, so a lockout
-- says nothing about which emails exist -- and the time the email stays locked.
CREATE TABLE control.login_failures (
    email text PRIMARY KEY CHECK (length(email) <= 254),
    failures int NOT NULL CHECK (failures >= 0),
    last_failure_at timestamptz NOT NULL,
    locked_until timestamptz
);

-- Refresh tokens rotate within a family (one per login). A used token is kept, marked used, until it
-- expires: presenting it again means it was stolen, and the whole family is revoked.
ALTER TABLE control.refresh_tokens ADD COLUMN family uuid NOT NULL DEFAULT gen_random_uuid(), ADD COLUMN used_at timestamptz;
CREATE INDEX refresh_tokens_family ON control.refresh_tokens (family);
