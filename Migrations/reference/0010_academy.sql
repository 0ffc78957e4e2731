-- The trading academy (issue 22): courses and lessons in English and French, each lesson's quiz
-- (answers included: the data plane grades attempts, members never read this table) and its
-- replayable scenario, loaded from Content/academy by `nzila reference load-academy`. A reload
-- replaces a course's lessons whole; members' progress lives in their tenant's schema, by lesson id.
CREATE TABLE reference.academy_courses (
    id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,63}$'),
    position int NOT NULL,
    title_en text NOT NULL,
    title_fr text NOT NULL,
    summary_en text NOT NULL,
    summary_fr text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE reference.academy_lessons (
    id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,63}$'),
    course_id text NOT NULL REFERENCES reference.academy_courses (id) ON DELETE CASCADE,
    position int NOT NULL,
    title_en text NOT NULL,
    title_fr text NOT NULL,
    body_en text NOT NULL,
    body_fr text NOT NULL,
    -- Academy.Quiz and Academy.Scenario as JSON.
    quiz jsonb,
    scenario jsonb,
    UNIQUE (course_id, position)
);
