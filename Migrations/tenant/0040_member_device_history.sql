-- Issue 26: a member's devices as a change history for fraud review: when each was first seen (business time, bound
-- by the order that first came from it, no longer the database's clock), that order and its amount. Rows stay
-- immutable (0010 revoked UPDATE): a device is seen first once.
ALTER TABLE member_devices ADD COLUMN first_remittance_id uuid REFERENCES remittances (id);
ALTER TABLE member_devices ADD COLUMN first_amount_minor bigint CHECK (first_amount_minor > 0);
CREATE INDEX member_devices_seen ON member_devices (member_id, first_seen_at DESC);
