-- Revoked access tokens (logout), by SHA-256 of the token, until they would have expired anyway.
-- Each revocation is announced on `nzila_revocations` (hex digest) so every data plane refuses the token
-- within milliseconds; the control plane checks the table itself.
CREATE TABLE control.revoked_tokens (
    token_sha256 bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX revoked_tokens_expires ON control.revoked_tokens (expires_at);

CREATE FUNCTION control.announce_revocation() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('nzila_revocations', encode(NEW.token_sha256, 'hex'));
    RETURN NULL;
END
$fn$;
CREATE TRIGGER revoked_tokens_announce AFTER INSERT ON control.revoked_tokens
    FOR EACH ROW EXECUTE FUNCTION control.announce_revocation();

-- The data plane (nzila_app) revokes its members' tokens through this function only.
CREATE FUNCTION tenant_api.revoke_token(p_token_sha256 bytea, p_expires_at timestamptz) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
    INSERT INTO control.revoked_tokens (token_sha256, expires_at) VALUES (p_token_sha256, p_expires_at) ON CONFLICT DO NOTHING;
$fn$;
REVOKE ALL ON FUNCTION tenant_api.revoke_token FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_api.revoke_token TO nzila_app;
GRANT SELECT ON control.revoked_tokens TO nzila_app;
