-- Which version of each sanctions or PEP list is screened against (issue 24): the one activated last,
-- not the one loaded last. Loading a new file activates it; `nzila reference activate-list` activates
-- an earlier version again (a rollback), recorded in control.audit_log. Existing versions keep their
-- order: the newest loaded stays current.
CREATE SEQUENCE reference.screening_activation;

ALTER TABLE reference.screening_lists
    ADD COLUMN activation bigint,
    ADD COLUMN activated_at timestamptz,
    ADD COLUMN activated_by text;

UPDATE reference.screening_lists SET activation = id, activated_at = loaded_at, activated_by = loaded_by;

SELECT setval('reference.screening_activation', coalesce((SELECT max(id) FROM reference.screening_lists), 0) + 1, false);

ALTER TABLE reference.screening_lists
    ALTER COLUMN activation SET DEFAULT nextval('reference.screening_activation'),
    ALTER COLUMN activation SET NOT NULL,
    ADD CONSTRAINT screening_lists_activation_unique UNIQUE (activation);

CREATE INDEX screening_lists_current ON reference.screening_lists (source, activation DESC);
