-- nzila:no-transaction
-- Entries by posting time (issue 23): the portal's dashboard and GET /v1/ledger/flows sum a day of
-- entries. BRIN, not B-tree: entries are appended in posting-time order, so a block range summary
-- finds a day's blocks at a few kilobytes per tenant and adds nothing measurable to each posting,
-- the hottest insert path there is. Built CONCURRENTLY on existing tenants (writes go on).
CREATE INDEX CONCURRENTLY entries_created_at ON entries USING brin (created_at);
