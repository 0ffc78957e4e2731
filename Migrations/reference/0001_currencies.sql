-- Platform data every tenant reads and none writes.
CREATE SCHEMA reference;

CREATE TABLE reference.currencies (
    code char(3) PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
    exponent smallint NOT NULL CHECK (exponent BETWEEN 0 AND 3),
    name text NOT NULL
);

INSERT INTO reference.currencies (code, exponent, name) VALUES
    ('CAD', 2, 'Canadian dollar'), ('USD', 2, 'US dollar'), ('EUR', 2, 'Euro'), ('GBP', 2, 'Pound sterling'),
    ('NGN', 2, 'Nigerian naira'), ('GHS', 2, 'Ghanaian cedi'), ('KES', 2, 'Kenyan shilling'),
    ('ZAR', 2, 'South African rand'), ('MAD', 2, 'Moroccan dirham'), ('CDF', 2, 'Congolese franc'),
    ('XOF', 0, 'West African CFA franc'), ('XAF', 0, 'Central African CFA franc'),
    ('UGX', 0, 'Ugandan shilling'), ('RWF', 0, 'Rwandan franc');

GRANT USAGE ON SCHEMA reference TO nzila_app;
