-- Issue 25: a card PaymentIntent's client secret confirms a payment, so it is kept like the recipient's numbers: sealed
-- under the tenant's data key (bound to the order) and opened only for the order's member. 0033 stored it in the clear.
-- Dropping that column loses the client secret of a card order still awaiting its money when this runs: such an order
-- is cancelled within the hour, and the member places a new one.
ALTER TABLE remittances DROP COLUMN funding_client_secret;
ALTER TABLE remittances
    ADD COLUMN funding_secret_sealed bytea,
    ADD COLUMN funding_secret_key int REFERENCES tenant_data_keys (id),
    ADD CONSTRAINT remittances_funding_secret_key CHECK ((funding_secret_sealed IS NULL) = (funding_secret_key IS NULL));
