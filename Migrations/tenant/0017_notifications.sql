-- Member notifications (issue 20): devices, preferences, and every message sent or recorded.
--
-- A device's push token is a credential of the member's phone: stored sealed (bound to the tenant
-- and device), with a digest for uniqueness and its last characters to show.
CREATE TABLE devices (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    platform text NOT NULL CHECK (platform IN ('fcm', 'apns')),
    token_sealed bytea NOT NULL,
    token_digest bytea NOT NULL,
    token_hint text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (member_id, token_digest)
);
CREATE INDEX devices_member ON devices (member_id, created_at DESC, id DESC);

-- Per member and category, which channels they want; no row: the category's default. The locale
-- messages are written in.
CREATE TABLE notification_preferences (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    member_id uuid NOT NULL REFERENCES members (id),
    category text NOT NULL CHECK (category IN ('remittances', 'deposits', 'large_transactions', 'tontines', 'loans')),
    push boolean NOT NULL,
    sms boolean NOT NULL,
    email boolean NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (member_id, category)
);
CREATE TABLE member_locales (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    member_id uuid PRIMARY KEY REFERENCES members (id),
    locale text NOT NULL CHECK (locale IN ('en-CA', 'fr-CA')),
    updated_at timestamptz NOT NULL
);

-- Every message planned from an event: to whom, on which channel, what it said (never an account or
-- recipient number: templates have no placeholder for one), and what became of it. One per (event,
-- member, channel, device), so a replanned event adds nothing. 'recorded' is the sandbox's outcome.
CREATE TABLE notifications (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    member_id uuid NOT NULL REFERENCES members (id),
    event_seq bigint NOT NULL,
    event_type text NOT NULL,
    category text NOT NULL,
    template text NOT NULL,
    critical boolean NOT NULL,
    channel text NOT NULL CHECK (channel IN ('push', 'sms', 'email')),
    device_id uuid,
    recipient_hint text NOT NULL,
    locale text NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'recorded', 'failed')),
    provider text,
    provider_message_id text,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    leased_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL,
    sent_at timestamptz
);
CREATE UNIQUE INDEX notifications_once ON notifications (event_seq, member_id, channel, coalesce(device_id, '00000000-0000-0000-0000-000000000000'));
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_member ON notifications (member_id, created_at DESC, id DESC);
CREATE INDEX notifications_listing ON notifications (created_at DESC, id DESC);

-- How far the notifier has read the tenant's published events. It starts at what the relay has
-- already numbered: a tenant that upgrades is not sent its past.
CREATE TABLE notification_cursor (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_seq bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
);
INSERT INTO notification_cursor (last_seq) SELECT coalesce(max(last_seq), 0) FROM outbox_relay;
