-- Every change to the partner registry is announced on `nzila_partners` at COMMIT, so running data planes rebuild their
-- partner, funding, identity, bank-linking and FX connections without a restart (a narrowed or removed connection stops
-- serving, a new one starts). One announcement per statement: a plane re-reads the whole registry, which is small.
CREATE FUNCTION control.announce_partner_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('nzila_partners', '');
    RETURN NULL;
END
$fn$;
CREATE TRIGGER partner_connections_announce AFTER INSERT OR UPDATE OR DELETE ON control.partner_connections
    FOR EACH STATEMENT EXECUTE FUNCTION control.announce_partner_change();
