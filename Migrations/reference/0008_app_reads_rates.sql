-- The data plane's platform role reads the FX mid rates: paper trading's matcher values every
-- tenant's fills of a sweep at the rates it reads once for all of them (OrderMatcher.Market),
-- instead of once per tenant. Rates are reference data every tenant already reads; nothing here
-- lets the role write them.
GRANT SELECT ON reference.fx_rates TO nzila_app;
