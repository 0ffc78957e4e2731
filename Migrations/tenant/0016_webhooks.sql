-- Tenant webhooks (issue 20): the credit union's own systems told of its events, signed, retried.
--
-- An endpoint is a URL and the event types it wants. Its signing secret is stored sealed with the
-- platform's master key (bound to the tenant and endpoint); after a rotation the previous secret
-- signs too until previous_secret_expires_at. failing_since is the first failed attempt since the last
-- success: past 3 days of it the endpoint is disabled.
CREATE TABLE webhook_endpoints (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    event_types text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 64),
    status text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled', 'deleted')),
    secret_sealed bytea NOT NULL,
    previous_secret_sealed bytea,
    previous_secret_expires_at timestamptz,
    failing_since timestamptz,
    disabled_reason text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_listing ON webhook_endpoints (created_at DESC, id DESC);

-- One delivery per (endpoint, event), queued in the same statement that numbers the event
-- (EventLog.publish), so an event is queued once for each endpoint that wanted it when it was
-- published. body is the exact JSON sent (and signed) on every attempt. A dispatcher claims due
-- deliveries with SKIP LOCKED and a lease (leased_until), so two data planes never send one at once.
CREATE TABLE webhook_deliveries (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id),
    event_id uuid NOT NULL,
    event_seq bigint NOT NULL,
    event_type text NOT NULL,
    body text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'dead')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    leased_until timestamptz,
    last_status_code integer,
    last_error text,
    created_at timestamptz NOT NULL,
    finished_at timestamptz,
    UNIQUE (endpoint_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE finished_at IS NOT NULL;

-- Every attempt: when, what came back (status code or the error), how long it took.
CREATE TABLE webhook_attempts (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt integer NOT NULL CHECK (attempt >= 1),
    at timestamptz NOT NULL,
    status_code integer,
    latency_ms integer NOT NULL CHECK (latency_ms >= 0),
    error text,
    PRIMARY KEY (delivery_id, attempt)
);
