-- The staff's browser sessions (issue 23): the credit-union portal on the data plane and the platform
-- console on the control plane. The cookie holds an opaque token; only its SHA-256 is stored. A session
-- ends at logout, after `idle` seconds without a request, or at its absolute expiry, all judged against
-- the platform clock the plane binds (never the database's). The CSRF token of its forms lives with it.
CREATE TABLE control.web_sessions (
    token_sha256 bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES control.users (id) ON DELETE CASCADE,
    role text NOT NULL,
    surface text NOT NULL CHECK (surface IN ('portal', 'console')),
    -- The tenant a portal session belongs to (a console session has none).
    tenant_slug text,
    email text NOT NULL,
    locale text NOT NULL CHECK (locale IN ('en', 'fr')),
    csrf_token text NOT NULL CHECK (length(csrf_token) >= 32),
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    CHECK ((surface = 'portal') = (tenant_slug IS NOT NULL))
);
CREATE INDEX web_sessions_user ON control.web_sessions (user_id);
CREATE INDEX web_sessions_expiry ON control.web_sessions (expires_at);

-- Each staff member's language for the portal and the console.
CREATE TABLE control.staff_preferences (
    user_id uuid PRIMARY KEY REFERENCES control.users (id) ON DELETE CASCADE,
    locale text NOT NULL CHECK (locale IN ('en', 'fr'))
);

-- The data plane serves the portal, so it keeps these two (and nothing else of the users).
GRANT SELECT, INSERT, UPDATE, DELETE ON control.web_sessions TO nzila_app;
GRANT SELECT, INSERT, UPDATE ON control.staff_preferences TO nzila_app;
