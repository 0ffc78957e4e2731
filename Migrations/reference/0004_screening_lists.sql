-- Sanctions and PEP lists (issue 7), as loaded by `nzila reference load-sanctions`. Each load of a
-- publisher's file is a new version (a row of screening_lists) with its own entries; the newest
-- version per source is the one screened against, older ones stay so every recorded decision can
-- still show the entry it matched. Tenants read them through nzila_tenant (default privileges).
CREATE TABLE reference.screening_lists (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source text NOT NULL CHECK (source IN ('ofac-sdn', 'un', 'eu', 'ca-sema', 'pep')),
    format text NOT NULL,
    -- The publisher's date when the file carries one, else sha256:<first 12 hex digits>.
    version text NOT NULL,
    file_sha256 text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    entry_count int NOT NULL CHECK (entry_count > 0),
    loaded_by text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (source, file_sha256)
);

CREATE TABLE reference.screening_entries (
    list_id bigint NOT NULL REFERENCES reference.screening_lists (id),
    source_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('individual', 'entity', 'vessel', 'aircraft')),
    names text[] NOT NULL CHECK (cardinality(names) >= 1),
    dates_of_birth text[] NOT NULL DEFAULT '{}',
    nationalities text[] NOT NULL DEFAULT '{}',
    programmes text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (list_id, source_id)
);
