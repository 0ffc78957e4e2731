-- The test clock of `nzila dev --test-clock` (issue 16), shared by every plane and worker of that
-- stack: the platform clock runs at the machine's pace plus this offset. The control plane's
-- POST /v1/test-clock/advance raises it and announces the new offset on nzila_test_clock; each data
-- plane's change feed adopts it (and reads it again on every reconnect and heartbeat). Servers started
-- without --test-clock never read it. The offset only grows.
CREATE TABLE control.test_clock (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    offset_us bigint NOT NULL DEFAULT 0 CHECK (offset_us >= 0),
    moved_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
GRANT SELECT ON control.test_clock TO nzila_app;
