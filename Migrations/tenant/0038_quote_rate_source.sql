-- Issue 25: where a quote's mid rate came from — the platform's reference rate (its own source, such as
-- `file:fx_rates.csv` or `simulated`) or, when that rate was stale, the FX fallback provider (`fx-quotes:NAME`).
-- Quotes made before this migration have none.
ALTER TABLE quotes ADD COLUMN rate_source text CHECK (length(rate_source) BETWEEN 1 AND 100);
