-- The triggers migration 0036_measure_retired installs on postgresql, frozen by `manage.py freeze_triggers`.
-- Never edit this file: a change to a trigger is a new migration (docs/triggers.md).
;
CREATE OR REPLACE FUNCTION grants_refuse_change_to_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are append-only: record a correcting entry instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$
;
CREATE TRIGGER grants_ledgerentry_refuse_update BEFORE UPDATE ON grants_ledgerentry FOR EACH ROW WHEN (ROW(OLD.id, OLD.uuid, OLD.fund_id, OLD.allocation_id, OLD.kind, OLD.amount_currency, OLD.amount, OLD.effective_date, OLD.reference, OLD.reverses_id, OLD.carried_from_id, OLD.memo, OLD.recorded_by_id, OLD.recorded_at, OLD.approved_outside_ledger) IS DISTINCT FROM ROW(NEW.id, NEW.uuid, NEW.fund_id, NEW.allocation_id, NEW.kind, NEW.amount_currency, NEW.amount, NEW.effective_date, NEW.reference, NEW.reverses_id, NEW.carried_from_id, NEW.memo, NEW.recorded_by_id, NEW.recorded_at, NEW.approved_outside_ledger) OR (OLD.approved_at IS NOT NULL AND ROW(OLD.approved_at, OLD.approved_by_id) IS DISTINCT FROM ROW(NEW.approved_at, NEW.approved_by_id)) OR (OLD.rejected_at IS NOT NULL AND ROW(OLD.rejected_at, OLD.rejected_by_id, OLD.rejection_reason) IS DISTINCT FROM ROW(NEW.rejected_at, NEW.rejected_by_id, NEW.rejection_reason))) EXECUTE FUNCTION grants_refuse_change_to_history()
;
CREATE TRIGGER grants_ledgerentry_refuse_delete BEFORE DELETE ON grants_ledgerentry FOR EACH ROW EXECUTE FUNCTION grants_refuse_change_to_history()
;
CREATE TRIGGER grants_linechange_refuse_update BEFORE UPDATE ON grants_linechange FOR EACH ROW WHEN (ROW(OLD.id, OLD.allocation_id, OLD.fund_id, OLD.organisation_id, OLD.service, OLD.thematic_area_id, OLD.funding_category_id, OLD.was_organisation_id, OLD.was_service, OLD.was_thematic_area_id, OLD.was_funding_category_id, OLD.reason, OLD.proposed_by_id, OLD.proposed_at) IS DISTINCT FROM ROW(NEW.id, NEW.allocation_id, NEW.fund_id, NEW.organisation_id, NEW.service, NEW.thematic_area_id, NEW.funding_category_id, NEW.was_organisation_id, NEW.was_service, NEW.was_thematic_area_id, NEW.was_funding_category_id, NEW.reason, NEW.proposed_by_id, NEW.proposed_at) OR (OLD.approved_at IS NOT NULL AND ROW(OLD.approved_at, OLD.approved_by_id) IS DISTINCT FROM ROW(NEW.approved_at, NEW.approved_by_id)) OR (OLD.rejected_at IS NOT NULL AND ROW(OLD.rejected_at, OLD.rejected_by_id, OLD.rejection_reason) IS DISTINCT FROM ROW(NEW.rejected_at, NEW.rejected_by_id, NEW.rejection_reason))) EXECUTE FUNCTION grants_refuse_change_to_history()
;
CREATE TRIGGER grants_linechange_refuse_delete BEFORE DELETE ON grants_linechange FOR EACH ROW EXECUTE FUNCTION grants_refuse_change_to_history()
;
CREATE TRIGGER grants_returnsubmission_refuse_update BEFORE UPDATE ON grants_returnsubmission FOR EACH ROW WHEN (ROW(OLD.id, OLD.fund_id, OLD.version, OLD.file_name, OLD.workbook, OLD.sha256, OLD.submitted_by_id, OLD.submitted_at, OLD.variance_currency, OLD.variance) IS DISTINCT FROM ROW(NEW.id, NEW.fund_id, NEW.version, NEW.file_name, NEW.workbook, NEW.sha256, NEW.submitted_by_id, NEW.submitted_at, NEW.variance_currency, NEW.variance) OR (OLD.reopened_at IS NOT NULL AND ROW(OLD.reopened_at, OLD.reopened_by_id, OLD.reopen_reason) IS DISTINCT FROM ROW(NEW.reopened_at, NEW.reopened_by_id, NEW.reopen_reason))) EXECUTE FUNCTION grants_refuse_change_to_history()
;
CREATE TRIGGER grants_returnsubmission_refuse_delete BEFORE DELETE ON grants_returnsubmission FOR EACH ROW EXECUTE FUNCTION grants_refuse_change_to_history()
;
CREATE TRIGGER grants_controltotalrevision_refuse_update BEFORE UPDATE ON grants_controltotalrevision FOR EACH ROW WHEN (ROW(OLD.id, OLD.fund_id, OLD.year, OLD.previous_amount_currency, OLD.previous_amount, OLD.new_amount_currency, OLD.new_amount, OLD.memo, OLD.recorded_by_id, OLD.recorded_at) IS DISTINCT FROM ROW(NEW.id, NEW.fund_id, NEW.year, NEW.previous_amount_currency, NEW.previous_amount, NEW.new_amount_currency, NEW.new_amount, NEW.memo, NEW.recorded_by_id, NEW.recorded_at)) EXECUTE FUNCTION grants_refuse_change_to_history()
;
CREATE TRIGGER grants_controltotalrevision_refuse_delete BEFORE DELETE ON grants_controltotalrevision FOR EACH ROW EXECUTE FUNCTION grants_refuse_change_to_history()
;
CREATE TRIGGER grants_refusedattempt_refuse_update BEFORE UPDATE ON grants_refusedattempt FOR EACH ROW WHEN (ROW(OLD.id, OLD.attempted_at, OLD.attempted_by_id, OLD.action, OLD.target, OLD.fund_id, OLD.allocation_id, OLD.message) IS DISTINCT FROM ROW(NEW.id, NEW.attempted_at, NEW.attempted_by_id, NEW.action, NEW.target, NEW.fund_id, NEW.allocation_id, NEW.message)) EXECUTE FUNCTION grants_refuse_change_to_history()
;
CREATE TRIGGER grants_refusedattempt_refuse_delete BEFORE DELETE ON grants_refusedattempt FOR EACH ROW EXECUTE FUNCTION grants_refuse_change_to_history()
;
CREATE OR REPLACE FUNCTION grants_refuse_outside_approval() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'only a data load may record an entry as approved before it reached the ledger' USING ERRCODE = 'check_violation'; END $$
;
CREATE TRIGGER grants_ledgerentry_outside_approval_needs_a_load BEFORE INSERT ON grants_ledgerentry FOR EACH ROW WHEN (NEW.approved_outside_ledger AND COALESCE(current_setting('ledger.loading', true), '') <> 'on') EXECUTE FUNCTION grants_refuse_outside_approval()
;
CREATE OR REPLACE FUNCTION grants_refuse_while_submitted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM grants_returnsubmission WHERE fund_id = OLD.fund_id AND reopened_at IS NULL) THEN
        RAISE EXCEPTION '% refused: the submitted MoJ return of this fund is in force; an approver reopens the fund first', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM grants_returnsubmission WHERE fund_id = NEW.fund_id AND reopened_at IS NULL) THEN
        RAISE EXCEPTION '% refused: the submitted MoJ return of this fund is in force; an approver reopens the fund first', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$
;
CREATE OR REPLACE FUNCTION grants_refuse_fund_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM grants_returnsubmission WHERE fund_id = NEW.id AND reopened_at IS NULL) THEN
        RAISE EXCEPTION '% refused: the submitted MoJ return of this fund is in force; an approver reopens the fund first', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM grants_fundyear WHERE fund_id = NEW.id) AND NEW.control_total - (SELECT SUM(control_total) FROM grants_fundyear WHERE fund_id = NEW.id) <> 0 THEN
        RAISE EXCEPTION '% refused: the control total of a fund with financial years is the sum of their figures', TG_TABLE_NAME USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$
;
CREATE OR REPLACE FUNCTION grants_check_profile_total() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed_fund integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed_fund := OLD.fund_id;
    ELSE
        changed_fund := NEW.fund_id;
    END IF;
    IF EXISTS (
        SELECT 1 FROM grants_fund f
        WHERE f.id = changed_fund AND EXISTS (SELECT 1 FROM grants_fundyear WHERE fund_id = f.id) AND f.control_total - (SELECT SUM(control_total) FROM grants_fundyear WHERE fund_id = f.id) <> 0
    ) THEN
        RAISE EXCEPTION '% refused: the control total of a fund with financial years is the sum of their figures', TG_TABLE_NAME USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$
;
CREATE TRIGGER grants_ledgerentry_refuse_insert_while_submitted BEFORE INSERT ON grants_ledgerentry FOR EACH ROW EXECUTE FUNCTION grants_refuse_while_submitted()
;
CREATE TRIGGER grants_ledgerentry_refuse_update_while_submitted BEFORE UPDATE ON grants_ledgerentry FOR EACH ROW WHEN (OLD.approved_at IS DISTINCT FROM NEW.approved_at OR OLD.rejected_at IS DISTINCT FROM NEW.rejected_at) EXECUTE FUNCTION grants_refuse_while_submitted()
;
CREATE TRIGGER grants_allocation_refuse_insert_while_submitted BEFORE INSERT ON grants_allocation FOR EACH ROW EXECUTE FUNCTION grants_refuse_while_submitted()
;
CREATE TRIGGER grants_allocation_refuse_update_while_submitted BEFORE UPDATE ON grants_allocation FOR EACH ROW EXECUTE FUNCTION grants_refuse_while_submitted()
;
CREATE TRIGGER grants_allocation_refuse_delete_while_submitted BEFORE DELETE ON grants_allocation FOR EACH ROW EXECUTE FUNCTION grants_refuse_while_submitted()
;
CREATE TRIGGER grants_fundyear_refuse_insert_while_submitted BEFORE INSERT ON grants_fundyear FOR EACH ROW EXECUTE FUNCTION grants_refuse_while_submitted()
;
CREATE TRIGGER grants_fundyear_refuse_update_while_submitted BEFORE UPDATE ON grants_fundyear FOR EACH ROW EXECUTE FUNCTION grants_refuse_while_submitted()
;
CREATE TRIGGER grants_fundyear_refuse_delete_while_submitted BEFORE DELETE ON grants_fundyear FOR EACH ROW EXECUTE FUNCTION grants_refuse_while_submitted()
;
CREATE TRIGGER grants_categorybudget_refuse_insert_while_submitted BEFORE INSERT ON grants_categorybudget FOR EACH ROW EXECUTE FUNCTION grants_refuse_while_submitted()
;
CREATE TRIGGER grants_categorybudget_refuse_update_while_submitted BEFORE UPDATE ON grants_categorybudget FOR EACH ROW EXECUTE FUNCTION grants_refuse_while_submitted()
;
CREATE TRIGGER grants_categorybudget_refuse_delete_while_submitted BEFORE DELETE ON grants_categorybudget FOR EACH ROW EXECUTE FUNCTION grants_refuse_while_submitted()
;
CREATE TRIGGER grants_fund_refuse_facts_while_submitted_or_off_profile BEFORE UPDATE ON grants_fund FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code OR OLD.name IS DISTINCT FROM NEW.name OR OLD.funder_id IS DISTINCT FROM NEW.funder_id OR OLD.spend_start IS DISTINCT FROM NEW.spend_start OR OLD.spend_end IS DISTINCT FROM NEW.spend_end OR OLD.control_total IS DISTINCT FROM NEW.control_total OR OLD.control_total_currency IS DISTINCT FROM NEW.control_total_currency) EXECUTE FUNCTION grants_refuse_fund_change()
;
CREATE CONSTRAINT TRIGGER grants_fundyear_profile_adds_up AFTER INSERT OR UPDATE OR DELETE ON grants_fundyear DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION grants_check_profile_total()
;
CREATE OR REPLACE FUNCTION grants_refuse_entry_off_its_line() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.allocation_id IS NOT NULL AND NEW.fund_id <> (SELECT fund_id FROM grants_allocation WHERE id = NEW.allocation_id) THEN
        RAISE EXCEPTION 'an entry on a line is recorded against the fund the line is in' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.kind = 'carried_forward' AND (NEW.approved_at IS NOT NULL OR NEW.rejected_at IS NOT NULL) AND NOT COALESCE(current_setting('ledger.loading', true), '') = 'on' THEN
        RAISE EXCEPTION 'a carry-forward is recorded awaiting approval and decided as a pair; only a data load may record one decided' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$
;
CREATE TRIGGER grants_ledgerentry_is_on_its_lines_fund BEFORE INSERT ON grants_ledgerentry FOR EACH ROW EXECUTE FUNCTION grants_refuse_entry_off_its_line()
;
CREATE OR REPLACE FUNCTION grants_refuse_line_moving_fund() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a line never moves to another fund' USING ERRCODE = 'check_violation';
END;
$$
;
CREATE TRIGGER grants_allocation_stays_in_its_fund BEFORE UPDATE ON grants_allocation FOR EACH ROW WHEN (OLD.fund_id IS DISTINCT FROM NEW.fund_id) EXECUTE FUNCTION grants_refuse_line_moving_fund()
;
CREATE OR REPLACE FUNCTION grants_refuse_line_change_while_submitted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM grants_returnsubmission WHERE fund_id = (SELECT fund_id FROM grants_allocation WHERE id = NEW.allocation_id) AND reopened_at IS NULL) THEN
        RAISE EXCEPTION 'grants_linechange refused: the submitted MoJ return of this fund is in force; an approver reopens the fund first' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$
;
CREATE TRIGGER grants_linechange_refuse_insert_while_submitted BEFORE INSERT ON grants_linechange FOR EACH ROW EXECUTE FUNCTION grants_refuse_line_change_while_submitted()
;
CREATE TRIGGER grants_linechange_refuse_update_while_submitted BEFORE UPDATE ON grants_linechange FOR EACH ROW WHEN (OLD.approved_at IS DISTINCT FROM NEW.approved_at OR OLD.rejected_at IS DISTINCT FROM NEW.rejected_at) EXECUTE FUNCTION grants_refuse_line_change_while_submitted()
;
CREATE OR REPLACE FUNCTION grants_carry_forward_in_leg_check() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NOT EXISTS (SELECT 1 FROM grants_ledgerentry o WHERE o.id = NEW.carried_from_id AND o.kind = 'carried_forward' AND o.carried_from_id IS NULL AND o.fund_id = NEW.fund_id AND o.allocation_id IS NOT DISTINCT FROM NEW.allocation_id AND o.amount = -NEW.amount AND CAST(EXTRACT(YEAR FROM NEW.effective_date - INTERVAL '3 months') AS INTEGER) = CAST(EXTRACT(YEAR FROM o.effective_date - INTERVAL '3 months') AS INTEGER) + 1 AND (o.approved_at IS NULL) = (NEW.approved_at IS NULL) AND (o.rejected_at IS NULL) = (NEW.rejected_at IS NULL)) THEN RAISE EXCEPTION 'the in leg of a carry-forward is carried from a pending out leg of the same fund and line, for the opposite amount, dated in the financial year after it' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$
;
CREATE TRIGGER grants_ledgerentry_carry_forward_in_leg_matches BEFORE INSERT ON grants_ledgerentry FOR EACH ROW WHEN (NEW.carried_from_id IS NOT NULL) EXECUTE FUNCTION grants_carry_forward_in_leg_check()
;
CREATE OR REPLACE FUNCTION grants_carry_forward_pair_decide() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE grants_ledgerentry SET approved_at = NEW.approved_at, approved_by_id = NEW.approved_by_id, rejected_at = NEW.rejected_at, rejected_by_id = NEW.rejected_by_id, rejection_reason = NEW.rejection_reason WHERE id = NEW.carried_from_id AND approved_at IS NULL AND rejected_at IS NULL; RETURN NULL; END $$
;
CREATE TRIGGER grants_ledgerentry_carry_forward_out_leg_follows AFTER UPDATE ON grants_ledgerentry FOR EACH ROW WHEN (NEW.carried_from_id IS NOT NULL AND ((OLD.approved_at IS NULL AND NEW.approved_at IS NOT NULL) OR (OLD.rejected_at IS NULL AND NEW.rejected_at IS NOT NULL))) EXECUTE FUNCTION grants_carry_forward_pair_decide()
;
CREATE OR REPLACE FUNCTION grants_carry_forward_refuse_out_leg_alone() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.kind = 'carried_forward' AND NEW.carried_from_id IS NULL AND ((OLD.approved_at IS NULL AND NEW.approved_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM grants_ledgerentry i WHERE i.carried_from_id = NEW.id AND i.approved_at IS NOT NULL)) OR (OLD.rejected_at IS NULL AND NEW.rejected_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM grants_ledgerentry i WHERE i.carried_from_id = NEW.id AND i.rejected_at IS NOT NULL))) THEN RAISE EXCEPTION 'a carry-forward is decided as a pair: approve, reject or withdraw its in leg, and its out leg follows' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$
;
CREATE TRIGGER grants_ledgerentry_carry_forward_out_leg_not_alone BEFORE UPDATE ON grants_ledgerentry FOR EACH ROW WHEN (NEW.kind = 'carried_forward' AND NEW.carried_from_id IS NULL) EXECUTE FUNCTION grants_carry_forward_refuse_out_leg_alone()
;
CREATE OR REPLACE FUNCTION grants_instalment_settled_is_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.settled_by_id IS NOT NULL AND EXISTS (SELECT 1 FROM grants_ledgerentry o WHERE o.id = OLD.settled_by_id AND o.rejected_at IS NULL AND NOT EXISTS (SELECT 1 FROM grants_ledgerentry r WHERE r.reverses_id = o.id AND r.approved_at IS NOT NULL)) THEN
        RAISE EXCEPTION 'an instalment settled by a payment that stands keeps its date, amount, timing and line and is not deleted: the payment is rejected, or its reversal approved, first' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND (ROW(OLD.due_date, OLD.amount, OLD.amount_currency, OLD.timing, OLD.allocation_id) IS DISTINCT FROM ROW(NEW.due_date, NEW.amount, NEW.amount_currency, NEW.timing, NEW.allocation_id)) AND OLD.settled_by_id IS NOT NULL AND EXISTS (SELECT 1 FROM grants_ledgerentry o WHERE o.id = OLD.settled_by_id AND o.rejected_at IS NULL AND NOT EXISTS (SELECT 1 FROM grants_ledgerentry r WHERE r.reverses_id = o.id AND r.approved_at IS NOT NULL)) THEN
        RAISE EXCEPTION 'an instalment settled by a payment that stands keeps its date, amount, timing and line and is not deleted: the payment is rejected, or its reversal approved, first' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$
;
CREATE TRIGGER grants_instalment_settled_is_kept BEFORE UPDATE OR DELETE ON grants_instalment FOR EACH ROW EXECUTE FUNCTION grants_instalment_settled_is_kept()
;
CREATE OR REPLACE FUNCTION grants_refuse_instalment_while_submitted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM grants_returnsubmission WHERE fund_id = (SELECT fund_id FROM grants_allocation WHERE id = OLD.allocation_id) AND reopened_at IS NULL) THEN
        RAISE EXCEPTION 'grants_instalment refused: the submitted MoJ return of this fund is in force; an approver reopens the fund first' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM grants_returnsubmission WHERE fund_id = (SELECT fund_id FROM grants_allocation WHERE id = NEW.allocation_id) AND reopened_at IS NULL) THEN
        RAISE EXCEPTION 'grants_instalment refused: the submitted MoJ return of this fund is in force; an approver reopens the fund first' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$
;
CREATE TRIGGER grants_instalment_refuse_while_submitted BEFORE INSERT OR UPDATE OR DELETE ON grants_instalment FOR EACH ROW EXECUTE FUNCTION grants_refuse_instalment_while_submitted()
;
CREATE OR REPLACE FUNCTION grants_instalment_settlement_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.settled_by_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM grants_ledgerentry e WHERE e.id = NEW.settled_by_id AND e.kind = 'payment' AND e.allocation_id = NEW.allocation_id AND e.reverses_id IS NULL AND e.rejected_at IS NULL) THEN
        RAISE EXCEPTION 'an instalment is settled by a payment on its own line that is not a reversal and not rejected, and keeps it while that payment stands' USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND ((NEW.settled_by_id IS NOT NULL AND (NEW.settled_by_id IS DISTINCT FROM OLD.settled_by_id OR NEW.allocation_id <> OLD.allocation_id) AND NOT EXISTS (SELECT 1 FROM grants_ledgerentry e WHERE e.id = NEW.settled_by_id AND e.kind = 'payment' AND e.allocation_id = NEW.allocation_id AND e.reverses_id IS NULL AND e.rejected_at IS NULL)) OR (OLD.settled_by_id IS NOT NULL AND NEW.settled_by_id IS DISTINCT FROM OLD.settled_by_id AND EXISTS (SELECT 1 FROM grants_ledgerentry o WHERE o.id = OLD.settled_by_id AND o.rejected_at IS NULL AND NOT EXISTS (SELECT 1 FROM grants_ledgerentry r WHERE r.reverses_id = o.id AND r.approved_at IS NOT NULL)))) THEN
        RAISE EXCEPTION 'an instalment is settled by a payment on its own line that is not a reversal and not rejected, and keeps it while that payment stands' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$
;
CREATE TRIGGER grants_instalment_settled_by_a_payment_that_stands BEFORE INSERT OR UPDATE ON grants_instalment FOR EACH ROW EXECUTE FUNCTION grants_instalment_settlement_check()
;
CREATE OR REPLACE FUNCTION grants_audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- TG_ARGV: the fund id column, the allocation id column ('' for none), then columns to treat
    -- apart, each as 'bytes:<column>' (recorded by its length), 'secret:<column>' (never recorded;
    -- a change is recorded as <column>_changed) or 'ignore:<column>' (never recorded, and a change
    -- of it alone is no event).
    fund_column text := NULLIF(TG_ARGV[0], '');
    allocation_column text := NULLIF(TG_ARGV[1], '');
    before_row jsonb;
    after_row jsonb;
    row_now jsonb;
    kind text;
    column_name text;
    byte_count bigint;
    ignored text[] := '{}';
    secrets_changed jsonb := '{}';
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
        kind := split_part(TG_ARGV[i], ':', 1);
        column_name := substr(TG_ARGV[i], length(kind) + 2);
        IF kind = 'bytes' THEN
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
        ELSE
            IF kind = 'ignore' THEN
                ignored := ignored || column_name;
            ELSIF TG_OP = 'UPDATE' THEN
                secrets_changed := secrets_changed || jsonb_build_object(
                    column_name || '_changed',
                    (before_row -> column_name) IS DISTINCT FROM (after_row -> column_name)
                );
            END IF;
            before_row := before_row - column_name;
            after_row := after_row - column_name;
        END IF;
    END LOOP;
    IF TG_OP = 'UPDATE' THEN
        IF cardinality(ignored) > 0 AND (to_jsonb(OLD) - ignored) = (to_jsonb(NEW) - ignored) THEN
            RETURN NULL;
        END IF;
        after_row := after_row || secrets_changed;
    END IF;
    row_now := COALESCE(after_row, before_row);
    INSERT INTO grants_auditevent (
        occurred_at, table_name, row_id, action, "before", "after", fund_id, allocation_id,
        actor_id, actor_username, reason, db_user, db_session_user, client_address
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
        current_user,
        session_user,
        inet_client_addr()
    );
    RETURN NULL;
END;$$
;
CREATE OR REPLACE FUNCTION grants_refuse_change_to_audit_trail() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        RAISE EXCEPTION 'audit events are written by the audit triggers only'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RAISE EXCEPTION 'audit events are append-only: they cannot be changed or deleted'
        USING ERRCODE = 'restrict_violation';
END;$$
;
CREATE TRIGGER grants_auditevent_refuse_change BEFORE UPDATE OR DELETE ON grants_auditevent FOR EACH ROW EXECUTE FUNCTION grants_refuse_change_to_audit_trail()
;
CREATE TRIGGER grants_auditevent_refuse_forgery BEFORE INSERT ON grants_auditevent FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION grants_refuse_change_to_audit_trail()
;
CREATE TRIGGER grants_funder_audit AFTER INSERT OR UPDATE OR DELETE ON grants_funder FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', '')
;
CREATE TRIGGER grants_fund_audit AFTER INSERT OR UPDATE OR DELETE ON grants_fund FOR EACH ROW EXECUTE FUNCTION grants_audit_row('id', '')
;
CREATE TRIGGER grants_controltotalrevision_audit AFTER INSERT OR UPDATE OR DELETE ON grants_controltotalrevision FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', '')
;
CREATE TRIGGER grants_fundyear_audit AFTER INSERT OR UPDATE OR DELETE ON grants_fundyear FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', '')
;
CREATE TRIGGER grants_categorybudget_audit AFTER INSERT OR UPDATE OR DELETE ON grants_categorybudget FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', '')
;
CREATE TRIGGER grants_organisation_audit AFTER INSERT OR UPDATE OR DELETE ON grants_organisation FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', '')
;
CREATE TRIGGER grants_thematicarea_audit AFTER INSERT OR UPDATE OR DELETE ON grants_thematicarea FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', '')
;
CREATE TRIGGER grants_fundingcategory_audit AFTER INSERT OR UPDATE OR DELETE ON grants_fundingcategory FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', '')
;
CREATE TRIGGER grants_allocation_audit AFTER INSERT OR UPDATE OR DELETE ON grants_allocation FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', 'id')
;
CREATE TRIGGER grants_ledgerentry_audit AFTER INSERT OR UPDATE OR DELETE ON grants_ledgerentry FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', 'allocation_id')
;
CREATE TRIGGER grants_returnsubmission_audit AFTER INSERT OR UPDATE OR DELETE ON grants_returnsubmission FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', '', 'bytes:workbook')
;
CREATE TRIGGER grants_importrecord_audit AFTER INSERT OR UPDATE OR DELETE ON grants_importrecord FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', '')
;
CREATE TRIGGER grants_importvaluemapping_audit AFTER INSERT OR UPDATE OR DELETE ON grants_importvaluemapping FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', '')
;
CREATE TRIGGER grants_linechange_audit AFTER INSERT OR UPDATE OR DELETE ON grants_linechange FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', 'allocation_id')
;
CREATE TRIGGER grants_instalment_audit AFTER INSERT OR UPDATE OR DELETE ON grants_instalment FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', 'allocation_id')
;
CREATE TRIGGER grants_lineregistertext_audit AFTER INSERT OR UPDATE OR DELETE ON grants_lineregistertext FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', 'allocation_id')
;
CREATE TRIGGER grants_refusedattempt_audit AFTER INSERT OR UPDATE OR DELETE ON grants_refusedattempt FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', 'allocation_id')
;
CREATE TRIGGER grants_reportingperiod_audit AFTER INSERT OR UPDATE OR DELETE ON grants_reportingperiod FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', '')
;
CREATE TRIGGER grants_measure_audit AFTER INSERT OR UPDATE OR DELETE ON grants_measure FOR EACH ROW EXECUTE FUNCTION grants_audit_row('fund_id', '')
;
CREATE TRIGGER grants_providerreturn_audit AFTER INSERT OR UPDATE OR DELETE ON grants_providerreturn FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', 'allocation_id')
;
CREATE TRIGGER grants_providerreturnvalue_audit AFTER INSERT OR UPDATE OR DELETE ON grants_providerreturnvalue FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', '')
;
CREATE TRIGGER auth_user_audit AFTER INSERT OR UPDATE OR DELETE ON auth_user FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', '', 'secret:password', 'ignore:last_login')
;
CREATE TRIGGER auth_user_groups_audit AFTER INSERT OR UPDATE OR DELETE ON auth_user_groups FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', '')
;
CREATE TRIGGER auth_user_user_permissions_audit AFTER INSERT OR UPDATE OR DELETE ON auth_user_user_permissions FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', '')
;
CREATE TRIGGER auth_group_audit AFTER INSERT OR UPDATE OR DELETE ON auth_group FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', '')
;
CREATE TRIGGER auth_group_permissions_audit AFTER INSERT OR UPDATE OR DELETE ON auth_group_permissions FOR EACH ROW EXECUTE FUNCTION grants_audit_row('', '')
;
CREATE OR REPLACE FUNCTION grants_entry_figures_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN WITH c AS (SELECT 1 AS sign, allocation_id, fund_id, kind, amount, approved_at, rejected_at FROM new_entries), d AS (SELECT c.allocation_id, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN c.amount ELSE 0 END)) AS awarded, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS awarded_pending, SUM(c.sign * (CASE WHEN c.kind = 'payment' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS paid, SUM(c.sign * (CASE WHEN c.kind = 'underspend_returned' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned, SUM(c.sign * (CASE WHEN c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN 1 ELSE 0 END)) AS awarded_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_awarded_entries FROM c WHERE c.allocation_id IS NOT NULL GROUP BY c.allocation_id), lines AS (UPDATE grants_linefigures f SET awarded = f.awarded + d.awarded, awarded_pending = f.awarded_pending + d.awarded_pending, paid = f.paid + d.paid, returned = f.returned + d.returned, pending_entries = f.pending_entries + d.pending_entries, awarded_entries = f.awarded_entries + d.awarded_entries, pending_awarded_entries = f.pending_awarded_entries + d.pending_awarded_entries FROM d WHERE f.allocation_id = d.allocation_id RETURNING 1), fd AS (SELECT c.fund_id, SUM(c.sign * (CASE WHEN c.kind = 'returned_to_funder' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned_to_funder, SUM(c.sign * (CASE WHEN c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_entries FROM c WHERE c.allocation_id IS NULL GROUP BY c.fund_id), updated AS (UPDATE grants_fundfigures t SET returned_to_funder = t.returned_to_funder + fd.returned_to_funder, pending_entries = t.pending_entries + fd.pending_entries FROM fd WHERE t.fund_id = fd.fund_id RETURNING t.fund_id) INSERT INTO grants_fundfigures (fund_id, returned_to_funder, pending_entries) SELECT fd.fund_id, fd.returned_to_funder, fd.pending_entries FROM fd WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.fund_id = fd.fund_id) ON CONFLICT (fund_id) DO UPDATE SET returned_to_funder = grants_fundfigures.returned_to_funder + EXCLUDED.returned_to_funder, pending_entries = grants_fundfigures.pending_entries + EXCLUDED.pending_entries; WITH c AS (SELECT 1 AS sign, allocation_id, kind, amount, approved_at, rejected_at, effective_date, reverses_id, CAST(EXTRACT(YEAR FROM COALESCE((SELECT r.effective_date FROM grants_ledgerentry r WHERE r.id = new_entries.reverses_id), new_entries.effective_date) - INTERVAL '3 months') AS INTEGER) AS year FROM new_entries WHERE new_entries.allocation_id IS NOT NULL), d AS (SELECT c.allocation_id, c.year, a.fund_id, a.funding_category_id, a.thematic_area_id, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN c.amount ELSE 0 END)) AS awarded, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS awarded_pending, SUM(c.sign * (CASE WHEN c.kind = 'payment' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS paid, SUM(c.sign * (CASE WHEN c.kind = 'underspend_returned' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned, SUM(c.sign * (CASE WHEN c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN 1 ELSE 0 END)) AS awarded_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_awarded_entries, SUM(c.sign * (CASE WHEN c.kind = 'payment' AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS paid_pending, SUM(c.sign * (CASE WHEN c.kind = 'underspend_returned' AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned_pending FROM c JOIN grants_allocation a ON a.id = c.allocation_id GROUP BY c.allocation_id, c.year, a.fund_id, a.funding_category_id, a.thematic_area_id), updated AS (UPDATE grants_lineyearfigures t SET awarded = t.awarded + d.awarded, awarded_pending = t.awarded_pending + d.awarded_pending, paid = t.paid + d.paid, returned = t.returned + d.returned, pending_entries = t.pending_entries + d.pending_entries, awarded_entries = t.awarded_entries + d.awarded_entries, pending_awarded_entries = t.pending_awarded_entries + d.pending_awarded_entries, paid_pending = t.paid_pending + d.paid_pending, returned_pending = t.returned_pending + d.returned_pending FROM d WHERE t.allocation_id = d.allocation_id AND t.year = d.year RETURNING t.allocation_id, t.year) INSERT INTO grants_lineyearfigures (allocation_id, year, fund_id, funding_category_id, thematic_area_id, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries, paid_pending, returned_pending) SELECT d.allocation_id, d.year, d.fund_id, d.funding_category_id, d.thematic_area_id, d.awarded, d.awarded_pending, d.paid, d.returned, d.pending_entries, d.awarded_entries, d.pending_awarded_entries, d.paid_pending, d.returned_pending FROM d WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.allocation_id = d.allocation_id AND u.year = d.year) ON CONFLICT (allocation_id, year) DO UPDATE SET awarded = grants_lineyearfigures.awarded + EXCLUDED.awarded, awarded_pending = grants_lineyearfigures.awarded_pending + EXCLUDED.awarded_pending, paid = grants_lineyearfigures.paid + EXCLUDED.paid, returned = grants_lineyearfigures.returned + EXCLUDED.returned, pending_entries = grants_lineyearfigures.pending_entries + EXCLUDED.pending_entries, awarded_entries = grants_lineyearfigures.awarded_entries + EXCLUDED.awarded_entries, pending_awarded_entries = grants_lineyearfigures.pending_awarded_entries + EXCLUDED.pending_awarded_entries, paid_pending = grants_lineyearfigures.paid_pending + EXCLUDED.paid_pending, returned_pending = grants_lineyearfigures.returned_pending + EXCLUDED.returned_pending; RETURN NULL; END $$
;
CREATE TRIGGER grants_entry_figures_insert AFTER INSERT ON grants_ledgerentry REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION grants_entry_figures_insert()
;
CREATE OR REPLACE FUNCTION grants_entry_figures_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN WITH c AS (SELECT 1 AS sign, allocation_id, fund_id, kind, amount, approved_at, rejected_at FROM new_entries UNION ALL SELECT -1 AS sign, allocation_id, fund_id, kind, amount, approved_at, rejected_at FROM old_entries), d AS (SELECT c.allocation_id, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN c.amount ELSE 0 END)) AS awarded, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS awarded_pending, SUM(c.sign * (CASE WHEN c.kind = 'payment' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS paid, SUM(c.sign * (CASE WHEN c.kind = 'underspend_returned' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned, SUM(c.sign * (CASE WHEN c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN 1 ELSE 0 END)) AS awarded_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_awarded_entries FROM c WHERE c.allocation_id IS NOT NULL GROUP BY c.allocation_id), lines AS (UPDATE grants_linefigures f SET awarded = f.awarded + d.awarded, awarded_pending = f.awarded_pending + d.awarded_pending, paid = f.paid + d.paid, returned = f.returned + d.returned, pending_entries = f.pending_entries + d.pending_entries, awarded_entries = f.awarded_entries + d.awarded_entries, pending_awarded_entries = f.pending_awarded_entries + d.pending_awarded_entries FROM d WHERE f.allocation_id = d.allocation_id RETURNING 1), fd AS (SELECT c.fund_id, SUM(c.sign * (CASE WHEN c.kind = 'returned_to_funder' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned_to_funder, SUM(c.sign * (CASE WHEN c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_entries FROM c WHERE c.allocation_id IS NULL GROUP BY c.fund_id), updated AS (UPDATE grants_fundfigures t SET returned_to_funder = t.returned_to_funder + fd.returned_to_funder, pending_entries = t.pending_entries + fd.pending_entries FROM fd WHERE t.fund_id = fd.fund_id RETURNING t.fund_id) INSERT INTO grants_fundfigures (fund_id, returned_to_funder, pending_entries) SELECT fd.fund_id, fd.returned_to_funder, fd.pending_entries FROM fd WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.fund_id = fd.fund_id) ON CONFLICT (fund_id) DO UPDATE SET returned_to_funder = grants_fundfigures.returned_to_funder + EXCLUDED.returned_to_funder, pending_entries = grants_fundfigures.pending_entries + EXCLUDED.pending_entries; WITH c AS (SELECT 1 AS sign, allocation_id, kind, amount, approved_at, rejected_at, effective_date, reverses_id, CAST(EXTRACT(YEAR FROM COALESCE((SELECT r.effective_date FROM grants_ledgerentry r WHERE r.id = new_entries.reverses_id), new_entries.effective_date) - INTERVAL '3 months') AS INTEGER) AS year FROM new_entries WHERE new_entries.allocation_id IS NOT NULL UNION ALL SELECT -1 AS sign, allocation_id, kind, amount, approved_at, rejected_at, effective_date, reverses_id, CAST(EXTRACT(YEAR FROM COALESCE((SELECT r.effective_date FROM grants_ledgerentry r WHERE r.id = old_entries.reverses_id), old_entries.effective_date) - INTERVAL '3 months') AS INTEGER) AS year FROM old_entries WHERE old_entries.allocation_id IS NOT NULL), d AS (SELECT c.allocation_id, c.year, a.fund_id, a.funding_category_id, a.thematic_area_id, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN c.amount ELSE 0 END)) AS awarded, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS awarded_pending, SUM(c.sign * (CASE WHEN c.kind = 'payment' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS paid, SUM(c.sign * (CASE WHEN c.kind = 'underspend_returned' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned, SUM(c.sign * (CASE WHEN c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN 1 ELSE 0 END)) AS awarded_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_awarded_entries, SUM(c.sign * (CASE WHEN c.kind = 'payment' AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS paid_pending, SUM(c.sign * (CASE WHEN c.kind = 'underspend_returned' AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned_pending FROM c JOIN grants_allocation a ON a.id = c.allocation_id GROUP BY c.allocation_id, c.year, a.fund_id, a.funding_category_id, a.thematic_area_id), updated AS (UPDATE grants_lineyearfigures t SET awarded = t.awarded + d.awarded, awarded_pending = t.awarded_pending + d.awarded_pending, paid = t.paid + d.paid, returned = t.returned + d.returned, pending_entries = t.pending_entries + d.pending_entries, awarded_entries = t.awarded_entries + d.awarded_entries, pending_awarded_entries = t.pending_awarded_entries + d.pending_awarded_entries, paid_pending = t.paid_pending + d.paid_pending, returned_pending = t.returned_pending + d.returned_pending FROM d WHERE t.allocation_id = d.allocation_id AND t.year = d.year RETURNING t.allocation_id, t.year) INSERT INTO grants_lineyearfigures (allocation_id, year, fund_id, funding_category_id, thematic_area_id, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries, paid_pending, returned_pending) SELECT d.allocation_id, d.year, d.fund_id, d.funding_category_id, d.thematic_area_id, d.awarded, d.awarded_pending, d.paid, d.returned, d.pending_entries, d.awarded_entries, d.pending_awarded_entries, d.paid_pending, d.returned_pending FROM d WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.allocation_id = d.allocation_id AND u.year = d.year) ON CONFLICT (allocation_id, year) DO UPDATE SET awarded = grants_lineyearfigures.awarded + EXCLUDED.awarded, awarded_pending = grants_lineyearfigures.awarded_pending + EXCLUDED.awarded_pending, paid = grants_lineyearfigures.paid + EXCLUDED.paid, returned = grants_lineyearfigures.returned + EXCLUDED.returned, pending_entries = grants_lineyearfigures.pending_entries + EXCLUDED.pending_entries, awarded_entries = grants_lineyearfigures.awarded_entries + EXCLUDED.awarded_entries, pending_awarded_entries = grants_lineyearfigures.pending_awarded_entries + EXCLUDED.pending_awarded_entries, paid_pending = grants_lineyearfigures.paid_pending + EXCLUDED.paid_pending, returned_pending = grants_lineyearfigures.returned_pending + EXCLUDED.returned_pending; RETURN NULL; END $$
;
CREATE TRIGGER grants_entry_figures_update AFTER UPDATE ON grants_ledgerentry REFERENCING OLD TABLE AS old_entries NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION grants_entry_figures_update()
;
CREATE OR REPLACE FUNCTION grants_entry_figures_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN WITH c AS (SELECT -1 AS sign, allocation_id, fund_id, kind, amount, approved_at, rejected_at FROM old_entries), d AS (SELECT c.allocation_id, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN c.amount ELSE 0 END)) AS awarded, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS awarded_pending, SUM(c.sign * (CASE WHEN c.kind = 'payment' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS paid, SUM(c.sign * (CASE WHEN c.kind = 'underspend_returned' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned, SUM(c.sign * (CASE WHEN c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN 1 ELSE 0 END)) AS awarded_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_awarded_entries FROM c WHERE c.allocation_id IS NOT NULL GROUP BY c.allocation_id), lines AS (UPDATE grants_linefigures f SET awarded = f.awarded + d.awarded, awarded_pending = f.awarded_pending + d.awarded_pending, paid = f.paid + d.paid, returned = f.returned + d.returned, pending_entries = f.pending_entries + d.pending_entries, awarded_entries = f.awarded_entries + d.awarded_entries, pending_awarded_entries = f.pending_awarded_entries + d.pending_awarded_entries FROM d WHERE f.allocation_id = d.allocation_id RETURNING 1), fd AS (SELECT c.fund_id, SUM(c.sign * (CASE WHEN c.kind = 'returned_to_funder' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned_to_funder, SUM(c.sign * (CASE WHEN c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_entries FROM c WHERE c.allocation_id IS NULL GROUP BY c.fund_id), updated AS (UPDATE grants_fundfigures t SET returned_to_funder = t.returned_to_funder + fd.returned_to_funder, pending_entries = t.pending_entries + fd.pending_entries FROM fd WHERE t.fund_id = fd.fund_id RETURNING t.fund_id) INSERT INTO grants_fundfigures (fund_id, returned_to_funder, pending_entries) SELECT fd.fund_id, fd.returned_to_funder, fd.pending_entries FROM fd WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.fund_id = fd.fund_id) ON CONFLICT (fund_id) DO UPDATE SET returned_to_funder = grants_fundfigures.returned_to_funder + EXCLUDED.returned_to_funder, pending_entries = grants_fundfigures.pending_entries + EXCLUDED.pending_entries; WITH c AS (SELECT -1 AS sign, allocation_id, kind, amount, approved_at, rejected_at, effective_date, reverses_id, CAST(EXTRACT(YEAR FROM COALESCE((SELECT r.effective_date FROM grants_ledgerentry r WHERE r.id = old_entries.reverses_id), old_entries.effective_date) - INTERVAL '3 months') AS INTEGER) AS year FROM old_entries WHERE old_entries.allocation_id IS NOT NULL), d AS (SELECT c.allocation_id, c.year, a.fund_id, a.funding_category_id, a.thematic_area_id, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN c.amount ELSE 0 END)) AS awarded, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS awarded_pending, SUM(c.sign * (CASE WHEN c.kind = 'payment' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS paid, SUM(c.sign * (CASE WHEN c.kind = 'underspend_returned' AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned, SUM(c.sign * (CASE WHEN c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NOT NULL THEN 1 ELSE 0 END)) AS awarded_entries, SUM(c.sign * (CASE WHEN c.kind IN ('award', 'variation', 'carried_forward') AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN 1 ELSE 0 END)) AS pending_awarded_entries, SUM(c.sign * (CASE WHEN c.kind = 'payment' AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS paid_pending, SUM(c.sign * (CASE WHEN c.kind = 'underspend_returned' AND c.approved_at IS NULL AND c.rejected_at IS NULL THEN c.amount ELSE 0 END)) AS returned_pending FROM c JOIN grants_allocation a ON a.id = c.allocation_id GROUP BY c.allocation_id, c.year, a.fund_id, a.funding_category_id, a.thematic_area_id) UPDATE grants_lineyearfigures f SET awarded = f.awarded + d.awarded, awarded_pending = f.awarded_pending + d.awarded_pending, paid = f.paid + d.paid, returned = f.returned + d.returned, pending_entries = f.pending_entries + d.pending_entries, awarded_entries = f.awarded_entries + d.awarded_entries, pending_awarded_entries = f.pending_awarded_entries + d.pending_awarded_entries, paid_pending = f.paid_pending + d.paid_pending, returned_pending = f.returned_pending + d.returned_pending FROM d WHERE f.allocation_id = d.allocation_id AND f.year = d.year; RETURN NULL; END $$
;
CREATE TRIGGER grants_entry_figures_delete AFTER DELETE ON grants_ledgerentry REFERENCING OLD TABLE AS old_entries FOR EACH STATEMENT EXECUTE FUNCTION grants_entry_figures_delete()
;
CREATE OR REPLACE FUNCTION grants_allocation_figures_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO grants_linefigures (allocation_id, fund_id, funding_category_id, thematic_area_id, line_number) SELECT id, fund_id, funding_category_id, thematic_area_id, line_number FROM new_allocations; RETURN NULL; END $$
;
CREATE TRIGGER grants_allocation_figures_insert AFTER INSERT ON grants_allocation REFERENCING NEW TABLE AS new_allocations FOR EACH STATEMENT EXECUTE FUNCTION grants_allocation_figures_insert()
;
CREATE OR REPLACE FUNCTION grants_allocation_figures_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE grants_linefigures f SET fund_id = n.fund_id, funding_category_id = n.funding_category_id, thematic_area_id = n.thematic_area_id, line_number = n.line_number FROM new_allocations n WHERE f.allocation_id = n.id AND (f.fund_id, f.funding_category_id, f.thematic_area_id, f.line_number) IS DISTINCT FROM (n.fund_id, n.funding_category_id, n.thematic_area_id, n.line_number); UPDATE grants_lineyearfigures f SET fund_id = n.fund_id, funding_category_id = n.funding_category_id, thematic_area_id = n.thematic_area_id FROM new_allocations n WHERE f.allocation_id = n.id AND (f.fund_id, f.funding_category_id, f.thematic_area_id) IS DISTINCT FROM (n.fund_id, n.funding_category_id, n.thematic_area_id); RETURN NULL; END $$
;
CREATE TRIGGER grants_allocation_figures_update AFTER UPDATE ON grants_allocation REFERENCING OLD TABLE AS old_allocations NEW TABLE AS new_allocations FOR EACH STATEMENT EXECUTE FUNCTION grants_allocation_figures_update()
;
CREATE OR REPLACE FUNCTION grants_allocation_figures_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM grants_linefigures WHERE allocation_id IN (SELECT id FROM old_allocations); DELETE FROM grants_lineyearfigures WHERE allocation_id IN (SELECT id FROM old_allocations); RETURN NULL; END $$
;
CREATE TRIGGER grants_allocation_figures_delete AFTER DELETE ON grants_allocation REFERENCING OLD TABLE AS old_allocations FOR EACH STATEMENT EXECUTE FUNCTION grants_allocation_figures_delete()
;
CREATE OR REPLACE FUNCTION grants_line_figures_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN WITH c AS (SELECT 1 AS sign, fund_id, funding_category_id, thematic_area_id, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries FROM new_lines), d AS (SELECT c.fund_id, c.funding_category_id, c.thematic_area_id, SUM(c.sign * (1)) AS line_count, SUM(c.sign * (CASE WHEN c.awarded_entries > 0 THEN 1 ELSE 0 END)) AS awarded_line_count, SUM(c.sign * (CASE WHEN c.pending_awarded_entries > 0 THEN 1 ELSE 0 END)) AS pending_line_count, SUM(c.sign * (c.awarded)) AS awarded, SUM(c.sign * (c.awarded_pending)) AS awarded_pending, SUM(c.sign * (c.paid)) AS paid, SUM(c.sign * (c.returned)) AS returned, SUM(c.sign * (c.pending_entries)) AS pending_entries FROM c GROUP BY c.fund_id, c.funding_category_id, c.thematic_area_id), updated AS (UPDATE grants_groupfigures t SET line_count = t.line_count + d.line_count, awarded_line_count = t.awarded_line_count + d.awarded_line_count, pending_line_count = t.pending_line_count + d.pending_line_count, awarded = t.awarded + d.awarded, awarded_pending = t.awarded_pending + d.awarded_pending, paid = t.paid + d.paid, returned = t.returned + d.returned, pending_entries = t.pending_entries + d.pending_entries FROM d WHERE t.fund_id = d.fund_id AND t.funding_category_id = d.funding_category_id AND t.thematic_area_id = d.thematic_area_id RETURNING t.fund_id, t.funding_category_id, t.thematic_area_id) INSERT INTO grants_groupfigures (fund_id, funding_category_id, thematic_area_id, line_count, awarded_line_count, pending_line_count, awarded, awarded_pending, paid, returned, pending_entries) SELECT d.fund_id, d.funding_category_id, d.thematic_area_id, d.line_count, d.awarded_line_count, d.pending_line_count, d.awarded, d.awarded_pending, d.paid, d.returned, d.pending_entries FROM d WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.fund_id = d.fund_id AND u.funding_category_id = d.funding_category_id AND u.thematic_area_id = d.thematic_area_id) ON CONFLICT (fund_id, funding_category_id, thematic_area_id) DO UPDATE SET line_count = grants_groupfigures.line_count + EXCLUDED.line_count, awarded_line_count = grants_groupfigures.awarded_line_count + EXCLUDED.awarded_line_count, pending_line_count = grants_groupfigures.pending_line_count + EXCLUDED.pending_line_count, awarded = grants_groupfigures.awarded + EXCLUDED.awarded, awarded_pending = grants_groupfigures.awarded_pending + EXCLUDED.awarded_pending, paid = grants_groupfigures.paid + EXCLUDED.paid, returned = grants_groupfigures.returned + EXCLUDED.returned, pending_entries = grants_groupfigures.pending_entries + EXCLUDED.pending_entries; RETURN NULL; END $$
;
CREATE TRIGGER grants_line_figures_insert AFTER INSERT ON grants_linefigures REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION grants_line_figures_insert()
;
CREATE OR REPLACE FUNCTION grants_line_figures_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN WITH c AS (SELECT 1 AS sign, fund_id, funding_category_id, thematic_area_id, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries FROM new_lines UNION ALL SELECT -1 AS sign, fund_id, funding_category_id, thematic_area_id, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries FROM old_lines), d AS (SELECT c.fund_id, c.funding_category_id, c.thematic_area_id, SUM(c.sign * (1)) AS line_count, SUM(c.sign * (CASE WHEN c.awarded_entries > 0 THEN 1 ELSE 0 END)) AS awarded_line_count, SUM(c.sign * (CASE WHEN c.pending_awarded_entries > 0 THEN 1 ELSE 0 END)) AS pending_line_count, SUM(c.sign * (c.awarded)) AS awarded, SUM(c.sign * (c.awarded_pending)) AS awarded_pending, SUM(c.sign * (c.paid)) AS paid, SUM(c.sign * (c.returned)) AS returned, SUM(c.sign * (c.pending_entries)) AS pending_entries FROM c GROUP BY c.fund_id, c.funding_category_id, c.thematic_area_id), updated AS (UPDATE grants_groupfigures t SET line_count = t.line_count + d.line_count, awarded_line_count = t.awarded_line_count + d.awarded_line_count, pending_line_count = t.pending_line_count + d.pending_line_count, awarded = t.awarded + d.awarded, awarded_pending = t.awarded_pending + d.awarded_pending, paid = t.paid + d.paid, returned = t.returned + d.returned, pending_entries = t.pending_entries + d.pending_entries FROM d WHERE t.fund_id = d.fund_id AND t.funding_category_id = d.funding_category_id AND t.thematic_area_id = d.thematic_area_id RETURNING t.fund_id, t.funding_category_id, t.thematic_area_id) INSERT INTO grants_groupfigures (fund_id, funding_category_id, thematic_area_id, line_count, awarded_line_count, pending_line_count, awarded, awarded_pending, paid, returned, pending_entries) SELECT d.fund_id, d.funding_category_id, d.thematic_area_id, d.line_count, d.awarded_line_count, d.pending_line_count, d.awarded, d.awarded_pending, d.paid, d.returned, d.pending_entries FROM d WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.fund_id = d.fund_id AND u.funding_category_id = d.funding_category_id AND u.thematic_area_id = d.thematic_area_id) ON CONFLICT (fund_id, funding_category_id, thematic_area_id) DO UPDATE SET line_count = grants_groupfigures.line_count + EXCLUDED.line_count, awarded_line_count = grants_groupfigures.awarded_line_count + EXCLUDED.awarded_line_count, pending_line_count = grants_groupfigures.pending_line_count + EXCLUDED.pending_line_count, awarded = grants_groupfigures.awarded + EXCLUDED.awarded, awarded_pending = grants_groupfigures.awarded_pending + EXCLUDED.awarded_pending, paid = grants_groupfigures.paid + EXCLUDED.paid, returned = grants_groupfigures.returned + EXCLUDED.returned, pending_entries = grants_groupfigures.pending_entries + EXCLUDED.pending_entries; RETURN NULL; END $$
;
CREATE TRIGGER grants_line_figures_update AFTER UPDATE ON grants_linefigures REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION grants_line_figures_update()
;
CREATE OR REPLACE FUNCTION grants_line_figures_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN WITH c AS (SELECT -1 AS sign, fund_id, funding_category_id, thematic_area_id, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries FROM old_lines), d AS (SELECT c.fund_id, c.funding_category_id, c.thematic_area_id, SUM(c.sign * (1)) AS line_count, SUM(c.sign * (CASE WHEN c.awarded_entries > 0 THEN 1 ELSE 0 END)) AS awarded_line_count, SUM(c.sign * (CASE WHEN c.pending_awarded_entries > 0 THEN 1 ELSE 0 END)) AS pending_line_count, SUM(c.sign * (c.awarded)) AS awarded, SUM(c.sign * (c.awarded_pending)) AS awarded_pending, SUM(c.sign * (c.paid)) AS paid, SUM(c.sign * (c.returned)) AS returned, SUM(c.sign * (c.pending_entries)) AS pending_entries FROM c GROUP BY c.fund_id, c.funding_category_id, c.thematic_area_id) UPDATE grants_groupfigures g SET line_count = g.line_count + d.line_count, awarded_line_count = g.awarded_line_count + d.awarded_line_count, pending_line_count = g.pending_line_count + d.pending_line_count, awarded = g.awarded + d.awarded, awarded_pending = g.awarded_pending + d.awarded_pending, paid = g.paid + d.paid, returned = g.returned + d.returned, pending_entries = g.pending_entries + d.pending_entries FROM d WHERE g.fund_id = d.fund_id AND g.funding_category_id = d.funding_category_id AND g.thematic_area_id = d.thematic_area_id; RETURN NULL; END $$
;
CREATE TRIGGER grants_line_figures_delete AFTER DELETE ON grants_linefigures REFERENCING OLD TABLE AS old_lines FOR EACH STATEMENT EXECUTE FUNCTION grants_line_figures_delete()
;
CREATE OR REPLACE FUNCTION grants_line_year_figures_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN WITH c AS (SELECT 1 AS sign, fund_id, year, funding_category_id, thematic_area_id, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries, paid_pending, returned_pending FROM new_line_years), d AS (SELECT c.fund_id, c.year, c.funding_category_id, c.thematic_area_id, SUM(c.sign * (1)) AS line_count, SUM(c.sign * (CASE WHEN c.awarded_entries > 0 THEN 1 ELSE 0 END)) AS awarded_line_count, SUM(c.sign * (CASE WHEN c.pending_awarded_entries > 0 THEN 1 ELSE 0 END)) AS pending_line_count, SUM(c.sign * (CASE WHEN c.awarded_entries + c.pending_awarded_entries > 0 THEN 1 ELSE 0 END)) AS recorded_line_count, SUM(c.sign * (c.awarded)) AS awarded, SUM(c.sign * (c.awarded_pending)) AS awarded_pending, SUM(c.sign * (c.paid)) AS paid, SUM(c.sign * (c.returned)) AS returned, SUM(c.sign * (c.pending_entries)) AS pending_entries, SUM(c.sign * (c.awarded_entries)) AS awarded_entries, SUM(c.sign * (c.pending_awarded_entries)) AS pending_awarded_entries, SUM(c.sign * (c.paid_pending)) AS paid_pending, SUM(c.sign * (c.returned_pending)) AS returned_pending FROM c GROUP BY c.fund_id, c.year, c.funding_category_id, c.thematic_area_id), updated AS (UPDATE grants_groupyearfigures t SET line_count = t.line_count + d.line_count, awarded_line_count = t.awarded_line_count + d.awarded_line_count, pending_line_count = t.pending_line_count + d.pending_line_count, recorded_line_count = t.recorded_line_count + d.recorded_line_count, awarded = t.awarded + d.awarded, awarded_pending = t.awarded_pending + d.awarded_pending, paid = t.paid + d.paid, returned = t.returned + d.returned, pending_entries = t.pending_entries + d.pending_entries, awarded_entries = t.awarded_entries + d.awarded_entries, pending_awarded_entries = t.pending_awarded_entries + d.pending_awarded_entries, paid_pending = t.paid_pending + d.paid_pending, returned_pending = t.returned_pending + d.returned_pending FROM d WHERE t.fund_id = d.fund_id AND t.year = d.year AND t.funding_category_id = d.funding_category_id AND t.thematic_area_id = d.thematic_area_id RETURNING t.fund_id, t.year, t.funding_category_id, t.thematic_area_id) INSERT INTO grants_groupyearfigures (fund_id, year, funding_category_id, thematic_area_id, line_count, awarded_line_count, pending_line_count, recorded_line_count, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries, paid_pending, returned_pending) SELECT d.fund_id, d.year, d.funding_category_id, d.thematic_area_id, d.line_count, d.awarded_line_count, d.pending_line_count, d.recorded_line_count, d.awarded, d.awarded_pending, d.paid, d.returned, d.pending_entries, d.awarded_entries, d.pending_awarded_entries, d.paid_pending, d.returned_pending FROM d WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.fund_id = d.fund_id AND u.year = d.year AND u.funding_category_id = d.funding_category_id AND u.thematic_area_id = d.thematic_area_id) ON CONFLICT (fund_id, year, funding_category_id, thematic_area_id) DO UPDATE SET line_count = grants_groupyearfigures.line_count + EXCLUDED.line_count, awarded_line_count = grants_groupyearfigures.awarded_line_count + EXCLUDED.awarded_line_count, pending_line_count = grants_groupyearfigures.pending_line_count + EXCLUDED.pending_line_count, recorded_line_count = grants_groupyearfigures.recorded_line_count + EXCLUDED.recorded_line_count, awarded = grants_groupyearfigures.awarded + EXCLUDED.awarded, awarded_pending = grants_groupyearfigures.awarded_pending + EXCLUDED.awarded_pending, paid = grants_groupyearfigures.paid + EXCLUDED.paid, returned = grants_groupyearfigures.returned + EXCLUDED.returned, pending_entries = grants_groupyearfigures.pending_entries + EXCLUDED.pending_entries, awarded_entries = grants_groupyearfigures.awarded_entries + EXCLUDED.awarded_entries, pending_awarded_entries = grants_groupyearfigures.pending_awarded_entries + EXCLUDED.pending_awarded_entries, paid_pending = grants_groupyearfigures.paid_pending + EXCLUDED.paid_pending, returned_pending = grants_groupyearfigures.returned_pending + EXCLUDED.returned_pending; RETURN NULL; END $$
;
CREATE TRIGGER grants_line_year_figures_insert AFTER INSERT ON grants_lineyearfigures REFERENCING NEW TABLE AS new_line_years FOR EACH STATEMENT EXECUTE FUNCTION grants_line_year_figures_insert()
;
CREATE OR REPLACE FUNCTION grants_line_year_figures_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN WITH c AS (SELECT 1 AS sign, fund_id, year, funding_category_id, thematic_area_id, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries, paid_pending, returned_pending FROM new_line_years UNION ALL SELECT -1 AS sign, fund_id, year, funding_category_id, thematic_area_id, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries, paid_pending, returned_pending FROM old_line_years), d AS (SELECT c.fund_id, c.year, c.funding_category_id, c.thematic_area_id, SUM(c.sign * (1)) AS line_count, SUM(c.sign * (CASE WHEN c.awarded_entries > 0 THEN 1 ELSE 0 END)) AS awarded_line_count, SUM(c.sign * (CASE WHEN c.pending_awarded_entries > 0 THEN 1 ELSE 0 END)) AS pending_line_count, SUM(c.sign * (CASE WHEN c.awarded_entries + c.pending_awarded_entries > 0 THEN 1 ELSE 0 END)) AS recorded_line_count, SUM(c.sign * (c.awarded)) AS awarded, SUM(c.sign * (c.awarded_pending)) AS awarded_pending, SUM(c.sign * (c.paid)) AS paid, SUM(c.sign * (c.returned)) AS returned, SUM(c.sign * (c.pending_entries)) AS pending_entries, SUM(c.sign * (c.awarded_entries)) AS awarded_entries, SUM(c.sign * (c.pending_awarded_entries)) AS pending_awarded_entries, SUM(c.sign * (c.paid_pending)) AS paid_pending, SUM(c.sign * (c.returned_pending)) AS returned_pending FROM c GROUP BY c.fund_id, c.year, c.funding_category_id, c.thematic_area_id), updated AS (UPDATE grants_groupyearfigures t SET line_count = t.line_count + d.line_count, awarded_line_count = t.awarded_line_count + d.awarded_line_count, pending_line_count = t.pending_line_count + d.pending_line_count, recorded_line_count = t.recorded_line_count + d.recorded_line_count, awarded = t.awarded + d.awarded, awarded_pending = t.awarded_pending + d.awarded_pending, paid = t.paid + d.paid, returned = t.returned + d.returned, pending_entries = t.pending_entries + d.pending_entries, awarded_entries = t.awarded_entries + d.awarded_entries, pending_awarded_entries = t.pending_awarded_entries + d.pending_awarded_entries, paid_pending = t.paid_pending + d.paid_pending, returned_pending = t.returned_pending + d.returned_pending FROM d WHERE t.fund_id = d.fund_id AND t.year = d.year AND t.funding_category_id = d.funding_category_id AND t.thematic_area_id = d.thematic_area_id RETURNING t.fund_id, t.year, t.funding_category_id, t.thematic_area_id) INSERT INTO grants_groupyearfigures (fund_id, year, funding_category_id, thematic_area_id, line_count, awarded_line_count, pending_line_count, recorded_line_count, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries, paid_pending, returned_pending) SELECT d.fund_id, d.year, d.funding_category_id, d.thematic_area_id, d.line_count, d.awarded_line_count, d.pending_line_count, d.recorded_line_count, d.awarded, d.awarded_pending, d.paid, d.returned, d.pending_entries, d.awarded_entries, d.pending_awarded_entries, d.paid_pending, d.returned_pending FROM d WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.fund_id = d.fund_id AND u.year = d.year AND u.funding_category_id = d.funding_category_id AND u.thematic_area_id = d.thematic_area_id) ON CONFLICT (fund_id, year, funding_category_id, thematic_area_id) DO UPDATE SET line_count = grants_groupyearfigures.line_count + EXCLUDED.line_count, awarded_line_count = grants_groupyearfigures.awarded_line_count + EXCLUDED.awarded_line_count, pending_line_count = grants_groupyearfigures.pending_line_count + EXCLUDED.pending_line_count, recorded_line_count = grants_groupyearfigures.recorded_line_count + EXCLUDED.recorded_line_count, awarded = grants_groupyearfigures.awarded + EXCLUDED.awarded, awarded_pending = grants_groupyearfigures.awarded_pending + EXCLUDED.awarded_pending, paid = grants_groupyearfigures.paid + EXCLUDED.paid, returned = grants_groupyearfigures.returned + EXCLUDED.returned, pending_entries = grants_groupyearfigures.pending_entries + EXCLUDED.pending_entries, awarded_entries = grants_groupyearfigures.awarded_entries + EXCLUDED.awarded_entries, pending_awarded_entries = grants_groupyearfigures.pending_awarded_entries + EXCLUDED.pending_awarded_entries, paid_pending = grants_groupyearfigures.paid_pending + EXCLUDED.paid_pending, returned_pending = grants_groupyearfigures.returned_pending + EXCLUDED.returned_pending; RETURN NULL; END $$
;
CREATE TRIGGER grants_line_year_figures_update AFTER UPDATE ON grants_lineyearfigures REFERENCING OLD TABLE AS old_line_years NEW TABLE AS new_line_years FOR EACH STATEMENT EXECUTE FUNCTION grants_line_year_figures_update()
;
CREATE OR REPLACE FUNCTION grants_line_year_figures_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN WITH c AS (SELECT -1 AS sign, fund_id, year, funding_category_id, thematic_area_id, awarded, awarded_pending, paid, returned, pending_entries, awarded_entries, pending_awarded_entries, paid_pending, returned_pending FROM old_line_years), d AS (SELECT c.fund_id, c.year, c.funding_category_id, c.thematic_area_id, SUM(c.sign * (1)) AS line_count, SUM(c.sign * (CASE WHEN c.awarded_entries > 0 THEN 1 ELSE 0 END)) AS awarded_line_count, SUM(c.sign * (CASE WHEN c.pending_awarded_entries > 0 THEN 1 ELSE 0 END)) AS pending_line_count, SUM(c.sign * (CASE WHEN c.awarded_entries + c.pending_awarded_entries > 0 THEN 1 ELSE 0 END)) AS recorded_line_count, SUM(c.sign * (c.awarded)) AS awarded, SUM(c.sign * (c.awarded_pending)) AS awarded_pending, SUM(c.sign * (c.paid)) AS paid, SUM(c.sign * (c.returned)) AS returned, SUM(c.sign * (c.pending_entries)) AS pending_entries, SUM(c.sign * (c.awarded_entries)) AS awarded_entries, SUM(c.sign * (c.pending_awarded_entries)) AS pending_awarded_entries, SUM(c.sign * (c.paid_pending)) AS paid_pending, SUM(c.sign * (c.returned_pending)) AS returned_pending FROM c GROUP BY c.fund_id, c.year, c.funding_category_id, c.thematic_area_id) UPDATE grants_groupyearfigures g SET line_count = g.line_count + d.line_count, awarded_line_count = g.awarded_line_count + d.awarded_line_count, pending_line_count = g.pending_line_count + d.pending_line_count, recorded_line_count = g.recorded_line_count + d.recorded_line_count, awarded = g.awarded + d.awarded, awarded_pending = g.awarded_pending + d.awarded_pending, paid = g.paid + d.paid, returned = g.returned + d.returned, pending_entries = g.pending_entries + d.pending_entries, awarded_entries = g.awarded_entries + d.awarded_entries, pending_awarded_entries = g.pending_awarded_entries + d.pending_awarded_entries, paid_pending = g.paid_pending + d.paid_pending, returned_pending = g.returned_pending + d.returned_pending FROM d WHERE g.fund_id = d.fund_id AND g.year = d.year AND g.funding_category_id = d.funding_category_id AND g.thematic_area_id = d.thematic_area_id; RETURN NULL; END $$
;
CREATE TRIGGER grants_line_year_figures_delete AFTER DELETE ON grants_lineyearfigures REFERENCING OLD TABLE AS old_line_years FOR EACH STATEMENT EXECUTE FUNCTION grants_line_year_figures_delete()
;
