-- Issue 26: each member's AML risk rating (low / medium / high) from documented factors (Compliance/Rules/CustomerRisk):
-- what the member declared or staff recorded (occupation, country of residence, expected monthly sending, PEP status)
-- and what the platform knows (remittances, screenings). Every rating is kept with its score and reasons, newest first,
-- so staff and an examiner see why and since when; the send decision reads the newest.
CREATE TABLE member_risk_profiles (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    member_id uuid PRIMARY KEY REFERENCES members (id),
    occupation text CHECK (occupation ~ '^[a-z][a-z_]{1,39}$'),
    residence_country text CHECK (residence_country ~ '^[A-Z]{2}$'),
    expected_monthly_minor bigint CHECK (expected_monthly_minor BETWEEN 0 AND 100000000000),
    pep text NOT NULL DEFAULT 'none' CHECK (pep IN ('none', 'domestic', 'foreign', 'international_org')),
    pep_associate boolean NOT NULL DEFAULT false,
    updated_by uuid,
    updated_role text NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE member_risk_ratings (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    level text NOT NULL CHECK (level IN ('low', 'medium', 'high')),
    score int NOT NULL CHECK (score >= 0),
    reasons jsonb NOT NULL CHECK (jsonb_typeof(reasons) = 'array'),
    because text NOT NULL CHECK (length(because) BETWEEN 1 AND 200),
    computed_at timestamptz NOT NULL
);
CREATE INDEX member_risk_ratings_member ON member_risk_ratings (member_id, computed_at DESC, id);

-- The ratings are the examiner's trail: never edited or removed by the application.
DO $grant$ BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE ON member_risk_ratings FROM %I', current_schema() || '_app');
END $grant$;
