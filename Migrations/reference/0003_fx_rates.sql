-- Mid-market FX rates, quote units per one base unit, as exact decimals (never float). The platform
-- updates them; tenants only read. Seeded with indicative rates so conversions work out of the box.
CREATE TABLE reference.fx_rates (
    base char(3) NOT NULL REFERENCES reference.currencies (code),
    quote char(3) NOT NULL REFERENCES reference.currencies (code),
    mid_rate numeric(24, 10) NOT NULL CHECK (mid_rate > 0),
    as_of timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (base, quote),
    CHECK (base <> quote)
);

INSERT INTO reference.fx_rates (base, quote, mid_rate) VALUES
    ('CAD', 'XOF', 441.5732000000), ('CAD', 'XAF', 441.5732000000), ('CAD', 'NGN', 1131.2045000000),
    ('CAD', 'GHS', 11.0423000000), ('CAD', 'KES', 94.3217000000), ('CAD', 'UGX', 2712.5500000000),
    ('CAD', 'RWF', 1003.7800000000), ('CAD', 'ZAR', 13.2391000000), ('CAD', 'MAD', 7.1542000000),
    ('CAD', 'CDF', 2047.6100000000), ('CAD', 'USD', 0.7163000000), ('CAD', 'EUR', 0.6612000000),
    ('CAD', 'GBP', 0.5637000000),
    ('USD', 'CAD', 1.3960000000), ('EUR', 'CAD', 1.5124000000), ('GBP', 'CAD', 1.7740000000),
    ('XOF', 'CAD', 0.0022646000), ('NGN', 'CAD', 0.0008840000);
