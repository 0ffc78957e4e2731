-- Key rotation: `nzila keys rotate` adds a new active key and retires the old one. A retired key stays
-- in the JWKS until every token it signed has expired, so no valid token is ever refused.
ALTER TABLE control.signing_keys ADD COLUMN retired_at timestamptz;
UPDATE control.signing_keys SET retired_at = created_at WHERE NOT active;
