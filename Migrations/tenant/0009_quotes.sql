-- Remittance quotes (issue 8): every component as shown to the member, locked for 30 minutes.
CREATE TABLE quotes (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid REFERENCES members (id),
    corridor text NOT NULL,
    method text NOT NULL CHECK (method IN ('mobile_money', 'bank_deposit', 'cash_pickup')),
    basis text NOT NULL CHECK (basis IN ('send', 'receive')),
    send_minor bigint NOT NULL CHECK (send_minor > 0),
    fee_minor bigint NOT NULL CHECK (fee_minor >= 0),
    total_debit_minor bigint NOT NULL CHECK (total_debit_minor = send_minor + fee_minor),
    receive_currency char(3) NOT NULL,
    receive_minor bigint NOT NULL CHECK (receive_minor > 0),
    mid_rate numeric(24, 10) NOT NULL CHECK (mid_rate > 0),
    customer_rate numeric(24, 10) NOT NULL CHECK (customer_rate > 0 AND customer_rate <= mid_rate),
    spread_bps int NOT NULL CHECK (spread_bps BETWEEN 0 AND 9999),
    spread_minor bigint NOT NULL CHECK (spread_minor >= 0),
    fee_band jsonb NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX quotes_member ON quotes (member_id, created_at DESC);
CREATE TRIGGER quotes_immutable BEFORE UPDATE OR DELETE ON quotes FOR EACH ROW EXECUTE FUNCTION refuse_change();
