-- Events and real time (issue 20): the outbox relayed in order, with a per-tenant sequence.
--
-- A relay (EventRelay in the data plane) takes this tenant's unsequenced outbox rows in id order,
-- under the lock of the single outbox_relay row (so one relay at a time per tenant, whichever data
-- plane runs it), numbers them seq = last_seq + 1, 2, … and stamps published_at, then announces the
-- range on `nzila_events` in the same transaction. seq therefore grows in commit order: a stream
-- that has seen seq N has seen every event before it, which is what `resume` relies on. Ids are
-- handed out at INSERT and can commit out of order; seqs cannot.
ALTER TABLE outbox_events ADD COLUMN seq bigint;
ALTER TABLE outbox_events ADD COLUMN audience uuid[] NOT NULL DEFAULT '{}';
CREATE UNIQUE INDEX outbox_events_seq ON outbox_events (seq) WHERE seq IS NOT NULL;
CREATE INDEX outbox_events_unsequenced ON outbox_events (id) WHERE seq IS NULL;
DROP INDEX outbox_events_unpublished;
-- The retention purge reads published events by age.
CREATE INDEX outbox_events_published ON outbox_events (published_at) WHERE published_at IS NOT NULL;

CREATE TABLE outbox_relay (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_seq bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
);
INSERT INTO outbox_relay DEFAULT VALUES;

-- An event's time is the transaction's platform time (`app.now`, microseconds since 2000, which every
-- tenant session sets from the platform clock), not PostgreSQL's; a writer may name its own.
ALTER TABLE outbox_events ALTER COLUMN created_at
    SET DEFAULT coalesce(timestamptz '2000-01-01 00:00:00+00' + nullif(current_setting('app.now', true), '')::int8 * interval '1 microsecond',
                         clock_timestamp());

-- Every written event: the members it is about (its audience on member streams) ride in the
-- payload's `_audience` member, which moves here to the row's column, so the domains' one-statement
-- inserts stay as they are (Outbox.Batch adds it).
CREATE FUNCTION outbox_event_written() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    NEW.audience := ARRAY(SELECT jsonb_array_elements_text(NEW.payload -> '_audience'))::uuid[];
    NEW.payload := NEW.payload - '_audience';
    RETURN NEW;
END
$fn$;
CREATE TRIGGER outbox_events_written BEFORE INSERT ON outbox_events FOR EACH ROW WHEN (NEW.payload ? '_audience')
    EXECUTE FUNCTION outbox_event_written();

-- No NOTIFY here: PostgreSQL serializes every committing transaction that notified, on one lock
-- for the whole cluster held until after the commit (PreCommit_Notify). The
-- plane that wrote the events wakes its relay after COMMIT (OutboxWake); a sweep covers the rest.

-- Balance changes on members' accounts become events too (topic `accounts`), written by the same
-- trigger that moves the balance, so every posting path (tenant_api.transfer included) announces
-- them. The event's time is the entry's posting time.
CREATE OR REPLACE FUNCTION apply_entry() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    account_currency char(3);
    account_member uuid;
    new_balance bigint;
BEGIN
    UPDATE accounts SET balance_minor = balance_minor + NEW.amount_minor
        WHERE id = NEW.account_id AND status = 'open'
        RETURNING currency, member_id, balance_minor INTO account_currency, account_member, new_balance;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % is not open', NEW.account_id USING ERRCODE = 'P0001';
    END IF;
    IF account_currency <> NEW.currency THEN
        RAISE EXCEPTION 'entry currency % does not match account currency %', NEW.currency, account_currency
            USING ERRCODE = 'P0001';
    END IF;
    -- An import replaying an archive's entries (app.replaying) brings their events with it.
    IF account_member IS NOT NULL AND coalesce(current_setting('app.replaying', true), '') <> 'on' THEN
        INSERT INTO outbox_events (topic, aggregate_id, payload, audience, created_at)
        VALUES ('account.balance_changed.v1', NEW.account_id,
                jsonb_build_object('account_id', NEW.account_id, 'journal_id', NEW.journal_id, 'amount_minor', NEW.amount_minor,
                                   'currency', NEW.currency, 'balance_minor', new_balance),
                ARRAY[account_member], NEW.created_at);
    END IF;
    RETURN NEW;
END
$fn$;
