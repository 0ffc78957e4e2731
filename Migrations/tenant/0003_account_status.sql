-- Every change of an account's status (open, frozen, closed), who made it and why: append-only, so
-- an officer can always see why an account is frozen. The account row carries the current status.
CREATE TABLE account_status_changes (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    from_status text NOT NULL,
    to_status text NOT NULL CHECK (to_status IN ('open', 'frozen', 'closed')),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    actor_id uuid NOT NULL,
    actor_role text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (from_status <> to_status)
);
CREATE INDEX account_status_changes_account ON account_status_changes (account_id, id DESC);
CREATE TRIGGER account_status_changes_immutable BEFORE UPDATE OR DELETE ON account_status_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- A closed account stays closed, and closes only empty: no balance, nothing held.
CREATE FUNCTION check_account_status() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF OLD.status = 'closed' AND NEW.status <> 'closed' THEN
        RAISE EXCEPTION 'account % is closed for good', OLD.id USING ERRCODE = '23514';
    END IF;
    IF NEW.status = 'closed' AND (NEW.balance_minor <> 0 OR NEW.held_minor <> 0) THEN
        RAISE EXCEPTION 'account % closes only empty', OLD.id USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END
$fn$;
-- Only on a status change: postings (balance updates) never fire it. A closed account takes no
-- entries anyway (apply_entry needs it open).
CREATE TRIGGER accounts_status_rules BEFORE UPDATE OF status ON accounts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION check_account_status();
