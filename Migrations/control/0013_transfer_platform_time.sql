-- One clock for business time (issue 16): tenant_api.transfer judged a hold's expiry by PostgreSQL's
-- now() while the hold's expires_at was written from the platform clock, so a test clock (or a data
-- plane whose clock disagrees with the database's) saw a different "expired". It now compares with the
-- posting time the data plane binds (p_at), the same instant its Swift rules used. Same signature,
-- same grants; only that comparison changes.
CREATE OR REPLACE FUNCTION tenant_api.transfer(
    p_role text, p_schema text, p_tenant uuid, p_member uuid,
    p_scope text, p_key text, p_request_sha256 bytea, p_response bytea,
    p_journal uuid, p_at_us bigint, p_from uuid, p_to uuid, p_amount bigint, p_currency text, p_memo text, p_audit jsonb)
RETURNS TABLE (replayed boolean, status int, request_sha256 bytea, body bytea)
LANGUAGE plpgsql AS $fn$
DECLARE
    -- The data plane's posting time (NzilaCore PostingTime): microseconds since 2000-01-01 UTC.
    p_at timestamptz := timestamptz '2000-01-01 00:00:00+00' + p_at_us * interval '1 microsecond';
    account record;
    -- Plain variables, not records: a record never assigned cannot even be tested field by field.
    source_found boolean := false;
    source_member uuid;
    source_currency text;
    source_status text;
    source_spendable bigint;
    source_held bigint;
    target_found boolean := false;
    target_member uuid;
    target_currency text;
    target_status text;
BEGIN
    IF p_amount <= 0 OR p_from = p_to THEN
        RAISE EXCEPTION 'transfer needs the general path' USING ERRCODE = 'NZ001';
    END IF;
    PERFORM tenant_api.enter(p_role, p_schema, p_tenant, p_member);
    -- A duplicate still running blocks here until it commits (then replays) or rolls back (then runs).
    INSERT INTO idempotency_keys (scope, key, request_sha256, status, body)
    VALUES (p_scope, p_key, p_request_sha256, 201, p_response) ON CONFLICT (scope, key) DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT true, k.status, k.request_sha256, k.body FROM idempotency_keys k WHERE k.scope = p_scope AND k.key = p_key;
        RETURN;
    END IF;
    FOR account IN
        SELECT a.id, a.member_id, a.currency::text AS currency, a.status,
               a.balance_minor - a.held_minor - a.floor_minor AS spendable, a.held_minor
        FROM accounts a WHERE a.id IN (p_from, p_to) ORDER BY a.id FOR UPDATE
    LOOP
        IF account.id = p_from THEN
            source_found := true;
            source_member := account.member_id;
            source_currency := account.currency;
            source_status := account.status;
            source_spendable := account.spendable;
            source_held := account.held_minor;
        ELSE
            target_found := true;
            target_member := account.member_id;
            target_currency := account.currency;
            target_status := account.status;
        END IF;
    END LOOP;
    -- Member accounts only (their floor is never NULL), the member's own source when a member asks.
    IF NOT source_found OR NOT target_found OR source_member IS NULL OR target_member IS NULL
        OR (p_member IS NOT NULL AND source_member <> p_member)
        OR source_status <> 'open' OR target_status <> 'open' OR source_currency <> p_currency OR target_currency <> p_currency
        OR source_spendable IS NULL OR source_spendable < p_amount
        OR (source_held > 0 AND EXISTS (
            SELECT 1 FROM holds h WHERE h.account_id = p_from AND h.status = 'active' AND h.expires_at <= p_at))
    THEN
        RAISE EXCEPTION 'transfer needs the general path' USING ERRCODE = 'NZ001';
    END IF;
    INSERT INTO journals (id, kind, memo, created_at) VALUES (p_journal, 'transfer', p_memo, p_at);
    INSERT INTO entries (journal_id, account_id, amount_minor, currency, created_at)
    VALUES (p_journal, p_from, -p_amount, p_currency, p_at), (p_journal, p_to, p_amount, p_currency, p_at);
    IF p_audit IS NOT NULL THEN
        PERFORM audit.record((p_audit ->> 'actor')::uuid, p_audit ->> 'actor_role', p_audit ->> 'request_id', p_audit ->> 'action',
                             p_audit ->> 'target', '{}'::jsonb);
    END IF;
    RETURN QUERY SELECT false, 201, p_request_sha256, NULL::bytea;
END
$fn$;

REVOKE ALL ON FUNCTION tenant_api.transfer FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_api.transfer TO nzila_app;
