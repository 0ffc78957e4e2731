-- Every screening decision (issue 7): who or what was screened and why, the normalised name, the
-- decision and score, and each candidate with its list, entry, list version, scores and reasons, so
-- an officer can always see why. Append-only, like journals.
CREATE TABLE screenings (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    purpose text NOT NULL CHECK (purpose IN ('manual', 'onboarding', 'rescreen', 'remittance-sender', 'remittance-recipient')),
    member_id uuid REFERENCES members (id),
    subject jsonb NOT NULL,
    normalized_name text[] NOT NULL,
    decision text NOT NULL CHECK (decision IN ('clear', 'review', 'block')),
    score numeric(5, 4) NOT NULL CHECK (score BETWEEN 0 AND 1),
    result jsonb NOT NULL,
    requested_by uuid,
    requested_role text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX screenings_created ON screenings (created_at DESC, id DESC);
CREATE INDEX screenings_member ON screenings (member_id, created_at DESC) WHERE member_id IS NOT NULL;
CREATE TRIGGER screenings_immutable BEFORE UPDATE OR DELETE ON screenings FOR EACH ROW EXECUTE FUNCTION refuse_change();
-- Default privileges granted UPDATE with the table; a decision is never edited. The schema's role is
-- <schema>_app for tenants and warm schemas alike.
DO $grant$ BEGIN EXECUTE format('REVOKE UPDATE ON screenings FROM %I', current_schema() || '_app'); END $grant$;
