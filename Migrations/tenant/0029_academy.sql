-- The trading academy (issue 22): each member's progress through the lessons loaded in
-- reference.academy_*, their quiz attempts (graded by the server) and their scenario replays.
CREATE TABLE academy_progress (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    member_id uuid NOT NULL REFERENCES members (id),
    lesson_id text NOT NULL,
    completed_at timestamptz NOT NULL,
    PRIMARY KEY (member_id, lesson_id)
);

CREATE TABLE academy_quiz_attempts (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    lesson_id text NOT NULL,
    answers int[] NOT NULL,
    score int NOT NULL CHECK (score >= 0),
    total int NOT NULL CHECK (total >= 1 AND score <= total),
    passed boolean NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX academy_quiz_attempts_member ON academy_quiz_attempts (member_id, lesson_id, created_at DESC);
CREATE TRIGGER academy_quiz_attempts_immutable BEFORE UPDATE OR DELETE ON academy_quiz_attempts FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE academy_scenario_runs (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    lesson_id text NOT NULL,
    -- The order replayed (Academy.ScenarioOrder) and what happened (ScenarioReplay.Result), as JSON.
    ticket jsonb NOT NULL,
    result jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX academy_scenario_runs_member ON academy_scenario_runs (member_id, lesson_id, created_at DESC);
