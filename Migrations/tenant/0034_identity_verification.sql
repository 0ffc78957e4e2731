-- Issue 25: identity verification sessions (document + selfie) with the provider a tenant's `identity` section names.
-- A verified session becomes KYC evidence carrying the provider's reference instead of a staff member's id, and may
-- move the member to tier 2 (the tier change then records the provider as its author, with no staff id).
ALTER TABLE tenant_config DROP CONSTRAINT tenant_config_key_check;
ALTER TABLE tenant_config ADD CONSTRAINT tenant_config_key_check
    CHECK (key IN ('fees', 'branding', 'kyc_limits', 'domains', 'compliance', 'rate_limits', 'tontine', 'lending', 'notifications',
                   'trading', 'payouts', 'funding', 'identity'));

ALTER TABLE kyc_documents ALTER COLUMN verified_by DROP NOT NULL;
ALTER TABLE kyc_documents
    ADD COLUMN provider_reference text CHECK (length(provider_reference) BETWEEN 1 AND 200),
    ADD CONSTRAINT kyc_documents_verifier CHECK (verified_by IS NOT NULL OR provider_reference IS NOT NULL);
ALTER TABLE kyc_tier_changes ALTER COLUMN changed_by DROP NOT NULL;

CREATE TABLE kyc_verifications (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    connection text NOT NULL,
    session_id text NOT NULL UNIQUE CHECK (length(session_id) BETWEEN 1 AND 200),
    status text NOT NULL CHECK (status IN ('requires_input', 'processing', 'verified', 'canceled')),
    document_ids uuid[] NOT NULL DEFAULT '{}',
    started_by uuid,
    started_role text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX kyc_verifications_member ON kyc_verifications (member_id, created_at DESC);
