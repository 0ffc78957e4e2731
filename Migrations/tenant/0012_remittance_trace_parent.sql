-- The W3C traceparent of the request that placed an order (issue 9), so the payout worker's span and
-- the partner call it makes join the member's trace. NULL when tracing is off.
ALTER TABLE remittances ADD COLUMN trace_parent text CHECK (length(trace_parent) <= 256);
