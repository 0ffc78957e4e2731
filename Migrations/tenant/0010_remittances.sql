-- Remittance orders (issue 8): one row per order with the quote's figures copied in (a quote is used
-- once), the current state, how it is funded, the journals it posted and where it is in the partner
-- flow. Recipient fields that identify a person's documents or accounts are sealed under the tenant's
-- data key (recipient_sealed); the clear `recipient` keeps only what staff and partners route on.
CREATE TABLE remittances (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    quote_id uuid NOT NULL UNIQUE REFERENCES quotes (id),
    corridor text NOT NULL,
    method text NOT NULL CHECK (method IN ('mobile_money', 'bank_deposit', 'cash_pickup')),
    send_minor bigint NOT NULL CHECK (send_minor > 0),
    fee_minor bigint NOT NULL CHECK (fee_minor >= 0),
    total_debit_minor bigint NOT NULL CHECK (total_debit_minor = send_minor + fee_minor),
    receive_currency char(3) NOT NULL,
    receive_minor bigint NOT NULL CHECK (receive_minor > 0),
    mid_rate numeric(24, 10) NOT NULL CHECK (mid_rate > 0),
    customer_rate numeric(24, 10) NOT NULL CHECK (customer_rate > 0 AND customer_rate <= mid_rate),
    spread_minor bigint NOT NULL CHECK (spread_minor >= 0),
    recipient jsonb NOT NULL,
    recipient_sealed bytea,
    key_id int REFERENCES tenant_data_keys (id),
    state text NOT NULL CHECK (state IN ('created', 'awaiting_funding', 'funded', 'screening', 'held', 'released', 'rejected',
        'converting', 'disbursing', 'delivered', 'failed', 'refunded', 'cancelled')),
    funding text NOT NULL CHECK (funding IN ('account', 'webhook')),
    source_account_id uuid REFERENCES accounts (id),
    hold_id uuid REFERENCES holds (id),
    funding_journal_id uuid REFERENCES journals (id),
    conversion_journal_id uuid REFERENCES journals (id),
    delivery_journal_id uuid REFERENCES journals (id),
    case_id uuid REFERENCES compliance_cases (id),
    decision jsonb NOT NULL DEFAULT '{}',
    device_id text CHECK (device_id IS NULL OR length(device_id) <= 200),
    partner text,
    partner_reference text,
    attempts int NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 10),
    -- When the worker should look at the order next (NULL: nothing to do until someone acts).
    next_step_at timestamptz,
    funding_expires_at timestamptz,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((funding = 'account') = (source_account_id IS NOT NULL)),
    CHECK ((recipient_sealed IS NULL) = (key_id IS NULL))
);
CREATE INDEX remittances_member ON remittances (member_id, created_at DESC, id DESC);
CREATE INDEX remittances_created ON remittances (created_at DESC, id DESC);
CREATE INDEX remittances_due ON remittances (next_step_at) WHERE next_step_at IS NOT NULL;

-- The state machine again, in SQL (OrderState.next in Swift is the first check): an UPDATE may only
-- take an order along a legal edge, and a final state never changes.
CREATE FUNCTION check_remittance_transition() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state AND NOT (OLD.state || '>' || NEW.state) = ANY (ARRAY[
        'created>awaiting_funding', 'created>cancelled', 'awaiting_funding>funded', 'awaiting_funding>cancelled',
        'funded>screening', 'screening>held', 'screening>converting', 'held>released', 'held>rejected', 'held>cancelled',
        'released>converting', 'rejected>refunded', 'converting>disbursing', 'converting>failed', 'disbursing>delivered',
        'disbursing>failed', 'failed>refunded']) THEN
        RAISE EXCEPTION 'remittance % cannot go from % to %', OLD.id, OLD.state, NEW.state USING ERRCODE = '23514';
    END IF;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$fn$;
CREATE TRIGGER remittances_transition BEFORE UPDATE ON remittances FOR EACH ROW EXECUTE FUNCTION check_remittance_transition();

-- Every transition with its time, actor and reason: append-only.
CREATE TABLE remittance_status_log (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    remittance_id uuid NOT NULL REFERENCES remittances (id),
    from_state text,
    to_state text NOT NULL,
    actor uuid,
    actor_role text NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX remittance_status_log_order ON remittance_status_log (remittance_id, id);
CREATE TRIGGER remittance_status_log_immutable BEFORE UPDATE OR DELETE ON remittance_status_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Events written in the transaction of the change they announce (transactional outbox); a relay
-- marks them published.
CREATE TABLE outbox_events (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic text NOT NULL CHECK (topic ~ '^[a-z_]+\.[a-z_]+\.v[0-9]+$'),
    aggregate_id uuid NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz
);
CREATE INDEX outbox_events_unpublished ON outbox_events (id) WHERE published_at IS NULL;
CREATE INDEX outbox_events_aggregate ON outbox_events (aggregate_id, id);

-- Each call to a payout partner: the order id and attempt number are the reference the partner
-- de-duplicates on, so a call repeated after a crash never pays twice.
CREATE TABLE partner_attempts (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    remittance_id uuid NOT NULL REFERENCES remittances (id),
    attempt int NOT NULL CHECK (attempt BETWEEN 1 AND 10),
    partner text NOT NULL,
    reference text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    partner_transaction text,
    error text CHECK (error IS NULL OR length(error) <= 1000),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    UNIQUE (remittance_id, attempt)
);

-- Inbound webhook events already applied, by provider and event id: a repeat has no effect.
CREATE TABLE webhook_events (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    provider text NOT NULL,
    event_id text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 200),
    remittance_id uuid REFERENCES remittances (id),
    outcome text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (provider, event_id)
);

-- Devices a member has sent from (the AML new-device rule).
CREATE TABLE member_devices (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    member_id uuid NOT NULL REFERENCES members (id),
    device_id text NOT NULL CHECK (length(device_id) BETWEEN 1 AND 200),
    first_seen_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (member_id, device_id)
);

-- Compliance cases may now be about a remittance, and EFT reports name the transfers they cover.
ALTER TABLE compliance_cases ADD COLUMN remittance_id uuid REFERENCES remittances (id);
CREATE INDEX compliance_cases_remittance ON compliance_cases (remittance_id) WHERE remittance_id IS NOT NULL;
ALTER TABLE compliance_reports ADD COLUMN remittance_ids uuid[] NOT NULL DEFAULT '{}';
CREATE INDEX compliance_reports_remittances ON compliance_reports USING gin (remittance_ids);

DO $grant$ BEGIN
    EXECUTE format('REVOKE UPDATE ON remittance_status_log, webhook_events, member_devices FROM %I', current_schema() || '_app');
END $grant$;
