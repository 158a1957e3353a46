-- What migration 0009_import_record installs on postgresql: recorded from the code it called when it was
-- written (grants/audit.py, grants/figures.py), so that it never changes with that code.
-- Never edit this file (docs/triggers.md).
;
CREATE OR REPLACE FUNCTION grants_audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- TG_ARGV: the fund id column, the allocation id column ('' for none), then binary columns
    -- recorded by their length only.
    fund_column text := NULLIF(TG_ARGV[0], '');
    allocation_column text := NULLIF(TG_ARGV[1], '');
    before_row jsonb;
    after_row jsonb;
    row_now jsonb;
    column_name text;
    byte_count bigint;
    i integer;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        before_row := to_jsonb(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        after_row := to_jsonb(NEW);
    END IF;
    FOR i IN 2 .. TG_NARGS - 1 LOOP
        column_name := TG_ARGV[i];
        IF before_row IS NOT NULL THEN
            EXECUTE format('SELECT octet_length(($1).%I)', column_name) USING OLD INTO byte_count;
            before_row := (before_row - column_name)
                || jsonb_build_object(column_name || '_bytes', byte_count);
        END IF;
        IF after_row IS NOT NULL THEN
            EXECUTE format('SELECT octet_length(($1).%I)', column_name) USING NEW INTO byte_count;
            after_row := (after_row - column_name)
                || jsonb_build_object(column_name || '_bytes', byte_count);
        END IF;
    END LOOP;
    row_now := COALESCE(after_row, before_row);
    INSERT INTO grants_auditevent (
        occurred_at, table_name, row_id, action, "before", "after", fund_id, allocation_id,
        actor_id, actor_username, reason, db_user
    ) VALUES (
        clock_timestamp(),
        TG_TABLE_NAME,
        (row_now->>'id')::bigint,
        lower(TG_OP),
        before_row,
        after_row,
        (row_now->>fund_column)::bigint,
        (row_now->>allocation_column)::bigint,
        NULLIF(current_setting('ledger.actor_id', true), '')::bigint,
        COALESCE(current_setting('ledger.actor_username', true), ''),
        COALESCE(current_setting('ledger.reason', true), ''),
        current_user
    );
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION grants_refuse_change_to_audit_trail() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        RAISE EXCEPTION 'audit events are written by the audit triggers only'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RAISE EXCEPTION 'audit events are append-only: they cannot be changed or deleted'
        USING ERRCODE = 'restrict_violation';
END;
$$
;
DROP TRIGGER IF EXISTS grants_importrecord_audit ON grants_importrecord
;
CREATE TRIGGER grants_importrecord_audit AFTER INSERT OR UPDATE OR DELETE ON grants_importrecord FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', '')
;
