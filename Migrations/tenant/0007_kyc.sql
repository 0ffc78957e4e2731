-- KYC (issue 7): the evidence behind each member's tier, and every tier change with its reason.
-- Document numbers are PII: stored only sealed (AES-256-GCM) under the tenant's own data key, itself
-- sealed under the platform master key, which never enters the database.
CREATE TABLE tenant_data_keys (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id int PRIMARY KEY CHECK (id >= 1),
    sealed_key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE kyc_documents (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    kind text NOT NULL CHECK (kind IN ('passport', 'national_id', 'drivers_licence', 'permanent_resident_card', 'selfie_match',
                                       'proof_of_address', 'source_of_funds', 'edd_interview')),
    number_sealed bytea,
    key_id int REFERENCES tenant_data_keys (id),
    -- The last characters only, for recognising a document without unsealing it.
    number_hint text CHECK (number_hint IS NULL OR length(number_hint) <= 4),
    issuing_country char(2) CHECK (issuing_country IS NULL OR issuing_country ~ '^[A-Z]{2}$'),
    expires_on date,
    notes text CHECK (notes IS NULL OR length(notes) <= 1000),
    verified_by uuid NOT NULL,
    verified_role text NOT NULL,
    verified_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((number_sealed IS NULL) = (key_id IS NULL))
);
CREATE INDEX kyc_documents_member ON kyc_documents (member_id, verified_at);

CREATE TABLE kyc_tier_changes (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    from_tier smallint NOT NULL CHECK (from_tier BETWEEN 1 AND 4),
    to_tier smallint NOT NULL CHECK (to_tier BETWEEN 1 AND 4),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    document_ids uuid[] NOT NULL DEFAULT '{}',
    changed_by uuid NOT NULL,
    changed_role text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX kyc_tier_changes_member ON kyc_tier_changes (member_id, id);
CREATE TRIGGER kyc_tier_changes_immutable BEFORE UPDATE OR DELETE ON kyc_tier_changes FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER kyc_documents_immutable BEFORE UPDATE OR DELETE ON kyc_documents FOR EACH ROW EXECUTE FUNCTION refuse_change();
DO $grant$ BEGIN
    EXECUTE format('REVOKE UPDATE ON tenant_data_keys, kyc_documents, kyc_tier_changes FROM %I', current_schema() || '_app');
END $grant$;
