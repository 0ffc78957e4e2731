-- Issue 26: a tenant's data key can be rotated (`nzila keys rotate-data-key`). A rotation adds the next key, stamped with
-- when it started; every sealed column is re-sealed under it in batches while the tenant serves; the key is stamped
-- resealed when no row is left under an older one. A rerun of an unfinished rotation resumes it. An older key is
-- deleted once nothing refers to it and it has been superseded long enough that no plane still seals with it.
ALTER TABLE tenant_data_keys
    ADD COLUMN rotation_started_at timestamptz,
    ADD COLUMN resealed_at timestamptz,
    ADD CONSTRAINT tenant_data_keys_resealed CHECK (resealed_at IS NULL OR rotation_started_at IS NOT NULL);

-- Identity documents stay append-only, except for a re-seal: the same number under another key, nothing else changed.
-- (The application role has no UPDATE on the table; only the owner, which runs rotations, can re-seal.)
CREATE FUNCTION kyc_documents_reseal_only() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.number_sealed IS NOT NULL AND NEW.number_sealed IS NOT NULL
       AND (to_jsonb(NEW) - 'number_sealed' - 'key_id') = (to_jsonb(OLD) - 'number_sealed' - 'key_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
END
$fn$;
DROP TRIGGER kyc_documents_immutable ON kyc_documents;
CREATE TRIGGER kyc_documents_immutable BEFORE UPDATE OR DELETE ON kyc_documents FOR EACH ROW EXECUTE FUNCTION kyc_documents_reseal_only();

-- A re-seal of an order's sealed fields is not a change of the order: its state rules apply as before, and its
-- updated_at (what clients compare) is left alone.
CREATE OR REPLACE FUNCTION check_remittance_transition() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF (to_jsonb(NEW) - 'recipient_sealed' - 'key_id' - 'funding_secret_sealed' - 'funding_secret_key')
       = (to_jsonb(OLD) - 'recipient_sealed' - 'key_id' - 'funding_secret_sealed' - 'funding_secret_key') THEN
        RETURN NEW;
    END IF;
    IF NEW.state IS DISTINCT FROM OLD.state AND NOT (OLD.state || '>' || NEW.state) = ANY (ARRAY[
        'created>awaiting_funding', 'created>cancelled', 'awaiting_funding>funded', 'awaiting_funding>cancelled',
        'funded>screening', 'screening>held', 'screening>converting', 'held>released', 'held>rejected', 'held>cancelled',
        'released>converting', 'rejected>refunded', 'converting>disbursing', 'converting>failed', 'disbursing>delivered',
        'disbursing>failed', 'failed>refunded']) THEN
        RAISE EXCEPTION 'remittance % cannot go from % to %', OLD.id, OLD.state, NEW.state USING ERRCODE = '23514';
    END IF;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$fn$;
