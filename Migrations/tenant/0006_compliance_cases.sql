-- The compliance officers' queue (issue 7): a case for each screening that did not clear a member
-- and, with remittances, each AML rule hit. Every step is an append-only event; decisions are final.
CREATE TABLE compliance_cases (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('screening', 'aml')),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'escalated', 'released', 'rejected')),
    member_id uuid REFERENCES members (id),
    screening_id uuid REFERENCES screenings (id),
    summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 500),
    detail jsonb NOT NULL DEFAULT '{}',
    assigned_to uuid,
    opened_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    decided_at timestamptz,
    decided_by uuid,
    CHECK ((status IN ('released', 'rejected')) = (decided_at IS NOT NULL))
);
CREATE INDEX compliance_cases_queue ON compliance_cases (status, opened_at, id);
CREATE INDEX compliance_cases_member ON compliance_cases (member_id) WHERE member_id IS NOT NULL;

CREATE TABLE compliance_case_events (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES compliance_cases (id),
    action text NOT NULL CHECK (action IN ('opened', 'assigned', 'commented', 'escalated', 'released', 'rejected', 'reported')),
    actor uuid,
    actor_role text,
    note text CHECK (note IS NULL OR length(note) <= 4000),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX compliance_case_events_case ON compliance_case_events (case_id, id);
CREATE TRIGGER compliance_case_events_immutable BEFORE UPDATE OR DELETE ON compliance_case_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- A decided case stays decided, even in SQL.
CREATE FUNCTION check_case_final() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF OLD.status IN ('released', 'rejected') AND (NEW.status <> OLD.status OR NEW.decided_at IS DISTINCT FROM OLD.decided_at) THEN
        RAISE EXCEPTION 'case % was decided (%) and cannot change', OLD.id, OLD.status USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END
$fn$;
CREATE TRIGGER compliance_cases_final BEFORE UPDATE ON compliance_cases FOR EACH ROW EXECUTE FUNCTION check_case_final();

-- FINTRAC reports: Electronic Funds Transfer Reports and Suspicious Transaction Reports, drafted here
-- with every field FINTRAC's schema asks for, exported as JSON, filed by the reporting entity.
CREATE TABLE compliance_reports (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('eftr', 'str')),
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'filed')),
    case_id uuid REFERENCES compliance_cases (id),
    payload jsonb NOT NULL,
    due_at timestamptz NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE UNIQUE INDEX compliance_reports_one_str_per_case ON compliance_reports (case_id) WHERE kind = 'str';
CREATE INDEX compliance_reports_created ON compliance_reports (created_at DESC, id DESC);
