"""Every trigger the ledger's database holds, as the SQL that creates it, for each database.

Three families: the audit trail's (the audit app), the stored figures' (grants.figures), and the
guards that keep history append-only (below). Migrations never call this module: a migration that
changes a trigger, or a table a trigger names, ships the output of `scripts/freeze_triggers.py`
beside it and reads those files (docs/triggers.md). The test suite checks that the newest frozen
files say what this module says, and that the database holds exactly those triggers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps

from audit.tables import AUDITED_TABLES
from audit.triggers import trigger_statements as audit_trigger_statements
from grants import figures
from grants.years import start_year_sql

VENDORS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Guard:
    """A table whose rows never change once written, except each group of `settable_once` columns,
    which may go from empty to a value together, once (an entry's approval or its rejection, a
    submission's reopening). The first column of a group says whether it is set."""

    table: str
    settable_once: tuple[tuple[str, ...], ...] = ()


DECISIONS = (("approved_at", "approved_by_id"), ("rejected_at", "rejected_by_id", "rejection_reason"))
GUARDS = (
    Guard("grants_ledgerentry", settable_once=DECISIONS),
    Guard("grants_linechange", settable_once=DECISIONS),
    Guard("grants_returnsubmission", settable_once=(("reopened_at", "reopened_by_id", "reopen_reason"),)),
    Guard("grants_controltotalrevision"),
    Guard("grants_refusedattempt"),
)

POSTGRES_REFUSE_FUNCTION = """CREATE OR REPLACE FUNCTION grants_refuse_change_to_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are append-only: record a correcting entry instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$"""


# The apps whose tables carry triggers: the ledger's own, and auth's (users, groups and permissions
# are audited, audit.tables).
TRIGGER_APPS = ("grants", "auth")


def table_columns(table: str) -> list[str]:
    """The columns of a table as the models declare them (the schema a migration leaves), many-to-many
    tables included."""
    for app in TRIGGER_APPS:
        for model in apps.get_app_config(app).get_models(include_auto_created=True):
            if model._meta.db_table == table:
                return [field.column for field in model._meta.local_concrete_fields]
    raise LookupError(f"No model of {', '.join(TRIGGER_APPS)} has the table {table}.")


def _row(prefix: str, columns) -> str:
    return "ROW(" + ", ".join(f"{prefix}.{column}" for column in columns) + ")"


def _guard_statements(vendor: str) -> list[str]:
    statements = [POSTGRES_REFUSE_FUNCTION] if vendor == "postgresql" else []
    for guard in GUARDS:
        table = guard.table
        settable = {column for group in guard.settable_once for column in group}
        fixed = [column for column in table_columns(table) if column not in settable]
        if vendor == "postgresql":
            changed = [f"{_row('OLD', fixed)} IS DISTINCT FROM {_row('NEW', fixed)}"]
            changed += [
                f"(OLD.{group[0]} IS NOT NULL AND {_row('OLD', group)} IS DISTINCT FROM {_row('NEW', group)})"
                for group in guard.settable_once
            ]
            statements += [
                f"CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN ({' OR '.join(changed)}) EXECUTE FUNCTION grants_refuse_change_to_history()",
                f"CREATE TRIGGER {table}_refuse_delete BEFORE DELETE ON {table} FOR EACH ROW "
                "EXECUTE FUNCTION grants_refuse_change_to_history()",
            ]
        else:
            # No DELETE guard on SQLite: Django's test runner empties SQLite tables with DELETE.
            changed = [" OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in fixed)]
            for group in guard.settable_once:
                group_changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in group)
                changed.append(f"(OLD.{group[0]} IS NOT NULL AND ({group_changed}))")
            statements.append(
                f"CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN {' OR '.join(changed)} BEGIN SELECT RAISE(ABORT, 'rows of {table} are append-only: "
                "record a correcting entry instead'); END"
            )
    return statements


OUTSIDE_APPROVAL_REFUSED = "only a data load may record an entry as approved before it reached the ledger"


def _outside_approval_statements(vendor: str) -> list[str]:
    """An entry marked approved outside the ledger (the seed's decisions) has no approver, so the
    database takes it only from a data load (`manage.py loaddata`, which marks its transaction)."""
    table = "grants_ledgerentry"
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION grants_refuse_outside_approval() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{OUTSIDE_APPROVAL_REFUSED}' "
            "USING ERRCODE = 'check_violation'; END $$",
            f"CREATE TRIGGER {table}_outside_approval_needs_a_load BEFORE INSERT ON {table} FOR EACH ROW "
            "WHEN (NEW.approved_outside_ledger "
            "AND COALESCE(current_setting('ledger.loading', true), '') <> 'on') "
            "EXECUTE FUNCTION grants_refuse_outside_approval()",
        ]
    return [
        f"CREATE TRIGGER {table}_outside_approval_needs_a_load BEFORE INSERT ON {table} FOR EACH ROW "
        f"WHEN NEW.approved_outside_ledger AND NOT ledger_loading() "
        f"BEGIN SELECT RAISE(ABORT, '{OUTSIDE_APPROVAL_REFUSED}'); END"
    ]


# --- A submitted fund, frozen in the database ------------------------------------------------------
# While a fund's submitted return is in force the services refuse every write to its figures
# (`grants.services._base._lock_open_fund`); these triggers refuse the same writes from anywhere
# else: the admin's raw forms, a script, a psql session.

SUBMITTED_REFUSED = (
    "refused: the submitted MoJ return of this fund is in force; an approver reopens the fund first"
)
# The tables whose rows carry a fund_id and change the fund's figures, and the events refused. An
# entry's only update is its decision (approval, rejection), refused as a new entry is. DELETE is
# guarded on PostgreSQL only: Django's test runner empties SQLite tables with DELETE.
FROZEN_WHILE_SUBMITTED = (
    ("grants_ledgerentry", ("INSERT", "UPDATE")),
    ("grants_allocation", ("INSERT", "UPDATE", "DELETE")),
    ("grants_fundyear", ("INSERT", "UPDATE", "DELETE")),
    ("grants_categorybudget", ("INSERT", "UPDATE", "DELETE")),
)
# The fund's own columns a submitted return reports (grants.services.funds.FUND_FACTS); its notes
# may change.
FUND_FACT_COLUMNS = (
    "code",
    "name",
    "funder_id",
    "spend_start",
    "spend_end",
    "control_total",
    "control_total_currency",
)
# No apostrophes: the messages are quoted in SQL.
PROFILE_REFUSED = "refused: the control total of a fund with financial years is the sum of their figures"


def _in_force(fund_id: str) -> str:
    return f"EXISTS (SELECT 1 FROM grants_returnsubmission WHERE fund_id = {fund_id} AND reopened_at IS NULL)"


def _decision_changed(vendor: str) -> str:
    """An entry's or a proposed change's decision (approval, rejection) is being written."""
    if vendor == "postgresql":
        return (
            "OLD.approved_at IS DISTINCT FROM NEW.approved_at "
            "OR OLD.rejected_at IS DISTINCT FROM NEW.rejected_at"
        )
    return "OLD.approved_at IS NOT NEW.approved_at OR OLD.rejected_at IS NOT NEW.rejected_at"


def _profile_disagrees(fund_id: str, total: str, vendor: str) -> str:
    """The fund has financial years and `total` is not their sum (to the penny)."""
    years = f"(SELECT SUM(control_total) FROM grants_fundyear WHERE fund_id = {fund_id})"
    difference = f"{total} - {years}" if vendor == "postgresql" else f"ROUND({total} - {years}, 2)"
    return f"EXISTS (SELECT 1 FROM grants_fundyear WHERE fund_id = {fund_id}) AND {difference} <> 0"


def _submitted_fund_statements(vendor: str) -> list[str]:
    decision_changed = _decision_changed(vendor)
    facts_changed = " OR ".join(
        f"OLD.{column} IS DISTINCT FROM NEW.{column}"
        if vendor == "postgresql"
        else f"OLD.{column} IS NOT NEW.{column}"
        for column in FUND_FACT_COLUMNS
    )
    if vendor == "postgresql":
        refuse_submitted = (
            f"RAISE EXCEPTION '% {SUBMITTED_REFUSED}', TG_TABLE_NAME USING ERRCODE = 'restrict_violation'"
        )
        refuse_profile = (
            f"RAISE EXCEPTION '% {PROFILE_REFUSED}', TG_TABLE_NAME USING ERRCODE = 'check_violation'"
        )
        statements = [
            f"""CREATE OR REPLACE FUNCTION grants_refuse_while_submitted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND {_in_force("OLD.fund_id")} THEN
        {refuse_submitted};
    END IF;
    IF TG_OP <> 'DELETE' AND {_in_force("NEW.fund_id")} THEN
        {refuse_submitted};
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$""",
            f"""CREATE OR REPLACE FUNCTION grants_refuse_fund_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF {_in_force("NEW.id")} THEN
        {refuse_submitted};
    END IF;
    IF {_profile_disagrees("NEW.id", "NEW.control_total", vendor)} THEN
        {refuse_profile};
    END IF;
    RETURN NEW;
END;
$$""",
            # A change to the years is checked when its transaction commits: a profile's service
            # writes the years first and the fund's total after them.
            f"""CREATE OR REPLACE FUNCTION grants_check_profile_total() RETURNS trigger
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
        WHERE f.id = changed_fund AND {_profile_disagrees("f.id", "f.control_total", vendor)}
    ) THEN
        {refuse_profile};
    END IF;
    RETURN NULL;
END;
$$""",
        ]
        for table, events in FROZEN_WHILE_SUBMITTED:
            for event in events:
                when = (
                    f" WHEN ({decision_changed})"
                    if (table, event) == ("grants_ledgerentry", "UPDATE")
                    else ""
                )
                statements.append(
                    f"CREATE TRIGGER {table}_refuse_{event.lower()}_while_submitted "
                    f"BEFORE {event} ON {table} FOR EACH ROW{when} "
                    "EXECUTE FUNCTION grants_refuse_while_submitted()"
                )
        statements += [
            "CREATE TRIGGER grants_fund_refuse_facts_while_submitted_or_off_profile "
            "BEFORE UPDATE ON grants_fund "
            f"FOR EACH ROW WHEN ({facts_changed}) EXECUTE FUNCTION grants_refuse_fund_change()",
            "CREATE CONSTRAINT TRIGGER grants_fundyear_profile_adds_up AFTER INSERT OR UPDATE OR DELETE "
            "ON grants_fundyear DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION grants_check_profile_total()",
        ]
        return statements
    statements = []
    for table, events in FROZEN_WHILE_SUBMITTED:
        for event in events:
            if event == "DELETE":
                continue
            refused = _in_force("NEW.fund_id")
            if event == "UPDATE":
                refused = f"({_in_force('OLD.fund_id')} OR {refused})"
            if (table, event) == ("grants_ledgerentry", "UPDATE"):
                refused = f"({decision_changed}) AND {refused}"
            statements.append(
                f"CREATE TRIGGER {table}_refuse_{event.lower()}_while_submitted BEFORE {event} ON {table} "
                f"FOR EACH ROW WHEN {refused} BEGIN SELECT RAISE(ABORT, '{table} {SUBMITTED_REFUSED}'); END"
            )
    statements += [
        "CREATE TRIGGER grants_fund_refuse_facts_while_submitted BEFORE UPDATE ON grants_fund FOR EACH ROW "
        f"WHEN ({facts_changed}) AND {_in_force('NEW.id')} "
        f"BEGIN SELECT RAISE(ABORT, 'grants_fund {SUBMITTED_REFUSED}'); END",
        # SQLite cannot wait for the commit, so it checks the fund's side only: a total set by hand on
        # a fund with years must be their sum (the profile's service writes the years first).
        "CREATE TRIGGER grants_fund_control_total_is_its_profile BEFORE UPDATE ON grants_fund FOR EACH ROW "
        "WHEN OLD.control_total IS NOT NEW.control_total AND "
        f"{_profile_disagrees('NEW.id', 'NEW.control_total', vendor)} "
        f"BEGIN SELECT RAISE(ABORT, 'grants_fund {PROFILE_REFUSED}'); END",
    ]
    return statements


CARRY_FORWARD_IN_LEG_REFUSED = (
    "the in leg of a carry-forward is carried from a pending out leg of the same fund and line, for the "
    "opposite amount, dated in the financial year after it"
)
CARRY_FORWARD_OUT_LEG_REFUSED = (
    "a carry-forward is decided as a pair: approve, reject or withdraw its in leg, and its out leg follows"
)


def _carry_forward_statements(vendor: str) -> list[str]:
    """A carry-forward is two entries decided together (README, "Carrying forward"): its in leg must
    match its out leg; deciding the in leg decides the out leg in the same statement; and the out
    leg cannot be decided on its own."""
    table = "grants_ledgerentry"
    in_year, out_year = (
        start_year_sql("NEW.effective_date", vendor),
        start_year_sql("o.effective_date", vendor),
    )
    matches = (
        f"SELECT 1 FROM {table} o WHERE o.id = NEW.carried_from_id AND o.kind = 'carried_forward' "
        "AND o.carried_from_id IS NULL AND o.fund_id = NEW.fund_id "
        "AND o.allocation_id IS NOT DISTINCT FROM NEW.allocation_id AND o.amount = -NEW.amount "
        f"AND {in_year} = {out_year} + 1 "
        "AND (o.approved_at IS NULL) = (NEW.approved_at IS NULL) "
        "AND (o.rejected_at IS NULL) = (NEW.rejected_at IS NULL)"
    )
    in_leg_decided = (
        "NEW.carried_from_id IS NOT NULL AND ((OLD.approved_at IS NULL AND NEW.approved_at IS NOT NULL) "
        "OR (OLD.rejected_at IS NULL AND NEW.rejected_at IS NOT NULL))"
    )
    follow = (
        f"UPDATE {table} SET approved_at = NEW.approved_at, approved_by_id = NEW.approved_by_id, "
        "rejected_at = NEW.rejected_at, rejected_by_id = NEW.rejected_by_id, "
        "rejection_reason = NEW.rejection_reason "
        "WHERE id = NEW.carried_from_id AND approved_at IS NULL AND rejected_at IS NULL"
    )
    out_leg_alone = (
        "NEW.kind = 'carried_forward' AND NEW.carried_from_id IS NULL AND ("
        "(OLD.approved_at IS NULL AND NEW.approved_at IS NOT NULL AND NOT EXISTS ("
        f"SELECT 1 FROM {table} i WHERE i.carried_from_id = NEW.id AND i.approved_at IS NOT NULL)) "
        "OR (OLD.rejected_at IS NULL AND NEW.rejected_at IS NOT NULL AND NOT EXISTS ("
        f"SELECT 1 FROM {table} i WHERE i.carried_from_id = NEW.id AND i.rejected_at IS NOT NULL)))"
    )
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION grants_carry_forward_in_leg_check() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN IF NOT EXISTS ({matches}) THEN "
            f"RAISE EXCEPTION '{CARRY_FORWARD_IN_LEG_REFUSED}' USING ERRCODE = 'check_violation'; "
            "END IF; RETURN NEW; END $$",
            f"CREATE TRIGGER {table}_carry_forward_in_leg_matches BEFORE INSERT ON {table} FOR EACH ROW "
            "WHEN (NEW.carried_from_id IS NOT NULL) EXECUTE FUNCTION grants_carry_forward_in_leg_check()",
            "CREATE OR REPLACE FUNCTION grants_carry_forward_pair_decide() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {follow}; RETURN NULL; END $$",
            f"CREATE TRIGGER {table}_carry_forward_out_leg_follows AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({in_leg_decided}) EXECUTE FUNCTION grants_carry_forward_pair_decide()",
            "CREATE OR REPLACE FUNCTION grants_carry_forward_refuse_out_leg_alone() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN IF {out_leg_alone} THEN "
            f"RAISE EXCEPTION '{CARRY_FORWARD_OUT_LEG_REFUSED}' USING ERRCODE = 'check_violation'; "
            "END IF; RETURN NEW; END $$",
            f"CREATE TRIGGER {table}_carry_forward_out_leg_not_alone BEFORE UPDATE ON {table} FOR EACH ROW "
            "WHEN (NEW.kind = 'carried_forward' AND NEW.carried_from_id IS NULL) "
            "EXECUTE FUNCTION grants_carry_forward_refuse_out_leg_alone()",
        ]
    matches = matches.replace("IS NOT DISTINCT FROM", "IS")
    return [
        f"CREATE TRIGGER {table}_carry_forward_in_leg_matches BEFORE INSERT ON {table} FOR EACH ROW "
        f"WHEN NEW.carried_from_id IS NOT NULL AND NOT EXISTS ({matches}) "
        f"BEGIN SELECT RAISE(ABORT, '{CARRY_FORWARD_IN_LEG_REFUSED}'); END",
        f"CREATE TRIGGER {table}_carry_forward_out_leg_follows AFTER UPDATE ON {table} FOR EACH ROW "
        f"WHEN {in_leg_decided} BEGIN {follow}; END",
        f"CREATE TRIGGER {table}_carry_forward_out_leg_not_alone BEFORE UPDATE ON {table} FOR EACH ROW "
        f"WHEN {out_leg_alone} BEGIN SELECT RAISE(ABORT, '{CARRY_FORWARD_OUT_LEG_REFUSED}'); END",
    ]


# --- Entries that say the truth about their line ----------------------------------------------------

ENTRY_FUND_REFUSED = "an entry on a line is recorded against the fund the line is in"
LINE_FUND_REFUSED = "a line never moves to another fund"
DECIDED_CARRY_FORWARD_REFUSED = (
    "a carry-forward is recorded awaiting approval and decided as a pair; "
    "only a data load may record one decided"
)


def _entry_line_statements(vendor: str) -> list[str]:
    """An entry on a line carries that line's fund (the submitted fund's lock and the figures read the
    entry's fund), and a line never changes fund; a carry-forward's leg is never inserted already
    approved or rejected, which would decide one leg alone, except by a data load. Proposed changes to
    a line (`grants_linechange`) are frozen with their line's fund while its return is in force."""
    line_fund = "(SELECT fund_id FROM grants_allocation WHERE id = NEW.allocation_id)"
    mismatch = f"NEW.allocation_id IS NOT NULL AND NEW.fund_id <> {line_fund}"
    decided = "NEW.kind = 'carried_forward' AND (NEW.approved_at IS NOT NULL OR NEW.rejected_at IS NOT NULL)"
    change_decided = _decision_changed(vendor)
    change_locked = _in_force(line_fund)
    if vendor == "postgresql":
        loading = "COALESCE(current_setting('ledger.loading', true), '') = 'on'"
        return [
            f"""CREATE OR REPLACE FUNCTION grants_refuse_entry_off_its_line() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF {mismatch} THEN
        RAISE EXCEPTION '{ENTRY_FUND_REFUSED}' USING ERRCODE = 'check_violation';
    END IF;
    IF {decided} AND NOT {loading} THEN
        RAISE EXCEPTION '{DECIDED_CARRY_FORWARD_REFUSED}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$""",
            "CREATE TRIGGER grants_ledgerentry_is_on_its_lines_fund BEFORE INSERT ON grants_ledgerentry "
            "FOR EACH ROW EXECUTE FUNCTION grants_refuse_entry_off_its_line()",
            f"""CREATE OR REPLACE FUNCTION grants_refuse_line_moving_fund() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{LINE_FUND_REFUSED}' USING ERRCODE = 'check_violation';
END;
$$""",
            "CREATE TRIGGER grants_allocation_stays_in_its_fund BEFORE UPDATE ON grants_allocation "
            "FOR EACH ROW WHEN (OLD.fund_id IS DISTINCT FROM NEW.fund_id) "
            "EXECUTE FUNCTION grants_refuse_line_moving_fund()",
            f"""CREATE OR REPLACE FUNCTION grants_refuse_line_change_while_submitted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF {change_locked} THEN
        RAISE EXCEPTION 'grants_linechange {SUBMITTED_REFUSED}' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$""",
            "CREATE TRIGGER grants_linechange_refuse_insert_while_submitted "
            "BEFORE INSERT ON grants_linechange FOR EACH ROW "
            "EXECUTE FUNCTION grants_refuse_line_change_while_submitted()",
            "CREATE TRIGGER grants_linechange_refuse_update_while_submitted "
            f"BEFORE UPDATE ON grants_linechange FOR EACH ROW WHEN ({change_decided}) "
            "EXECUTE FUNCTION grants_refuse_line_change_while_submitted()",
        ]
    return [
        "CREATE TRIGGER grants_ledgerentry_is_on_its_lines_fund BEFORE INSERT ON grants_ledgerentry "
        f"FOR EACH ROW WHEN {mismatch} BEGIN SELECT RAISE(ABORT, '{ENTRY_FUND_REFUSED}'); END",
        "CREATE TRIGGER grants_ledgerentry_carry_forward_is_inserted_undecided "
        "BEFORE INSERT ON grants_ledgerentry "
        f"FOR EACH ROW WHEN {decided} AND NOT ledger_loading() "
        f"BEGIN SELECT RAISE(ABORT, '{DECIDED_CARRY_FORWARD_REFUSED}'); END",
        "CREATE TRIGGER grants_allocation_stays_in_its_fund BEFORE UPDATE ON grants_allocation "
        "FOR EACH ROW WHEN OLD.fund_id IS NOT NEW.fund_id "
        f"BEGIN SELECT RAISE(ABORT, '{LINE_FUND_REFUSED}'); END",
        "CREATE TRIGGER grants_linechange_refuse_insert_while_submitted BEFORE INSERT ON grants_linechange "
        f"FOR EACH ROW WHEN {change_locked} "
        f"BEGIN SELECT RAISE(ABORT, 'grants_linechange {SUBMITTED_REFUSED}'); END",
        "CREATE TRIGGER grants_linechange_refuse_update_while_submitted BEFORE UPDATE ON grants_linechange "
        f"FOR EACH ROW WHEN ({change_decided}) AND {change_locked} "
        f"BEGIN SELECT RAISE(ABORT, 'grants_linechange {SUBMITTED_REFUSED}'); END",
    ]


# --- Planned instalments settled by payments that stand ----------------------------------------------

SETTLEMENT_REFUSED = (
    "an instalment is settled by a payment on its own line that is not a reversal and not rejected, "
    "and keeps it while that payment stands"
)


SETTLED_KEPT = (
    "an instalment settled by a payment that stands keeps its date, amount, timing and line and is not "
    "deleted: the payment is rejected, or its reversal approved, first"
)
# What the service refuses to change on a settled instalment (`grants.services.schedules`).
SETTLED_FIXED = ("due_date", "amount", "amount_currency", "timing", "allocation_id")


def _settled_kept_statements(vendor: str, old_stands: str) -> list[str]:
    """An instalment settled by a payment that stands (not rejected, no approved reversal; one awaiting
    approval stands) keeps what was planned, as `instalment_update` and `instalment_delete` refuse.
    DELETE is guarded on PostgreSQL only: Django's test runner empties SQLite tables with DELETE."""
    table = "grants_instalment"
    settled = f"OLD.settled_by_id IS NOT NULL AND {old_stands}"
    if vendor == "postgresql":
        changed = f"{_row('OLD', SETTLED_FIXED)} IS DISTINCT FROM {_row('NEW', SETTLED_FIXED)}"
        return [
            f"""CREATE OR REPLACE FUNCTION grants_instalment_settled_is_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND {settled} THEN
        RAISE EXCEPTION '{SETTLED_KEPT}' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND ({changed}) AND {settled} THEN
        RAISE EXCEPTION '{SETTLED_KEPT}' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$""",
            f"CREATE TRIGGER {table}_settled_is_kept BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION grants_instalment_settled_is_kept()",
        ]
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in SETTLED_FIXED)
    return [
        f"CREATE TRIGGER {table}_settled_is_kept_on_update BEFORE UPDATE ON {table} FOR EACH ROW "
        f"WHEN ({changed}) AND {settled} BEGIN SELECT RAISE(ABORT, '{SETTLED_KEPT}'); END",
    ]


def _settlement_statements(vendor: str) -> list[str]:
    """An instalment's payment (`grants.models.schedules`) is a payment entry of the instalment's own
    line, not a reversal, not rejected or withdrawn; and a payment that still stands (not rejected, no
    approved reversal) is never replaced or taken off its instalment, so that one instalment is settled
    by at most one live payment. (That a payment settles at most one instalment is a unique column.)"""
    table = "grants_instalment"
    valid = (
        "EXISTS (SELECT 1 FROM grants_ledgerentry e WHERE e.id = NEW.settled_by_id AND e.kind = 'payment' "
        "AND e.allocation_id = NEW.allocation_id AND e.reverses_id IS NULL AND e.rejected_at IS NULL)"
    )
    old_stands = (
        "EXISTS (SELECT 1 FROM grants_ledgerentry o WHERE o.id = OLD.settled_by_id AND o.rejected_at IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM grants_ledgerentry r WHERE r.reverses_id = o.id "
        "AND r.approved_at IS NOT NULL))"
    )
    # A schedule is frozen with its line's fund while the fund's return is in force, as the services
    # refuse (`grants.services.schedules`).
    frozen = _settled_kept_statements(vendor, old_stands)
    new_locked = _in_force("(SELECT fund_id FROM grants_allocation WHERE id = NEW.allocation_id)")
    old_locked = _in_force("(SELECT fund_id FROM grants_allocation WHERE id = OLD.allocation_id)")
    if vendor == "postgresql":
        frozen += [
            f"""CREATE OR REPLACE FUNCTION grants_refuse_instalment_while_submitted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND {old_locked} THEN
        RAISE EXCEPTION '{table} {SUBMITTED_REFUSED}' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP <> 'DELETE' AND {new_locked} THEN
        RAISE EXCEPTION '{table} {SUBMITTED_REFUSED}' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$""",
            f"CREATE TRIGGER {table}_refuse_while_submitted BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION grants_refuse_instalment_while_submitted()",
        ]
    else:
        # No DELETE guard on SQLite: Django's test runner empties SQLite tables with DELETE.
        frozen += [
            f"CREATE TRIGGER {table}_refuse_insert_while_submitted BEFORE INSERT ON {table} FOR EACH ROW "
            f"WHEN {new_locked} BEGIN SELECT RAISE(ABORT, '{table} {SUBMITTED_REFUSED}'); END",
            f"CREATE TRIGGER {table}_refuse_update_while_submitted BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN {old_locked} OR {new_locked} "
            f"BEGIN SELECT RAISE(ABORT, '{table} {SUBMITTED_REFUSED}'); END",
        ]
    if vendor == "postgresql":
        changed = "NEW.settled_by_id IS DISTINCT FROM OLD.settled_by_id"
        inserted_bad = f"NEW.settled_by_id IS NOT NULL AND NOT {valid}"
        updated_bad = (
            f"(NEW.settled_by_id IS NOT NULL AND ({changed} OR NEW.allocation_id <> OLD.allocation_id) "
            f"AND NOT {valid}) OR (OLD.settled_by_id IS NOT NULL AND {changed} AND {old_stands})"
        )
        return frozen + [
            f"""CREATE OR REPLACE FUNCTION grants_instalment_settlement_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND {inserted_bad} THEN
        RAISE EXCEPTION '{SETTLEMENT_REFUSED}' USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND ({updated_bad}) THEN
        RAISE EXCEPTION '{SETTLEMENT_REFUSED}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$""",
            f"CREATE TRIGGER {table}_settled_by_a_payment_that_stands BEFORE INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION grants_instalment_settlement_check()",
        ]
    changed = "NEW.settled_by_id IS NOT OLD.settled_by_id"
    return frozen + [
        f"CREATE TRIGGER {table}_settled_by_a_payment_on_insert BEFORE INSERT ON {table} FOR EACH ROW "
        f"WHEN NEW.settled_by_id IS NOT NULL AND NOT {valid} "
        f"BEGIN SELECT RAISE(ABORT, '{SETTLEMENT_REFUSED}'); END",
        f"CREATE TRIGGER {table}_settled_by_a_payment_on_update BEFORE UPDATE ON {table} FOR EACH ROW "
        f"WHEN (NEW.settled_by_id IS NOT NULL AND ({changed} OR NEW.allocation_id IS NOT OLD.allocation_id) "
        f"AND NOT {valid}) OR (OLD.settled_by_id IS NOT NULL AND {changed} AND {old_stands}) "
        f"BEGIN SELECT RAISE(ABORT, '{SETTLEMENT_REFUSED}'); END",
    ]


def install_statements(vendor: str) -> list[str]:
    """CREATE statements for every trigger (and, on PostgreSQL, trigger function) of the app, for a
    database whose tables are as the models are now and which holds no trigger yet."""
    if vendor not in VENDORS:
        raise NotImplementedError(f"No triggers written for {vendor}.")
    return [
        *_guard_statements(vendor),
        *_outside_approval_statements(vendor),
        *_submitted_fund_statements(vendor),
        *_entry_line_statements(vendor),
        *_carry_forward_statements(vendor),
        *_settlement_statements(vendor),
        *audit_trigger_statements(vendor, AUDITED_TABLES, table_columns),
        *figures.trigger_statements(vendor),
    ]


def rebuild_statements(vendor: str) -> list[str]:
    """Statements that recompute every stored figure from the entries (after the triggers that keep
    them have changed what they count)."""
    return figures.rebuild_statements(vendor)


# --- Frozen files -----------------------------------------------------------------------------------
# One file per database beside the migration: statements separated by a line holding only ";".

SEPARATOR = "\n;\n"


def frozen_text(migration: str, vendor: str, *, rebuild_figures: bool) -> str:
    header = [
        f"-- The triggers migration {migration} installs on {vendor}, frozen by `manage.py freeze_triggers`.",
        "-- Never edit this file: a change to a trigger is a new migration (docs/triggers.md).",
    ]
    statements = install_statements(vendor)
    if rebuild_figures:
        header.append("-- After the triggers, the stored figures are recomputed from the entries.")
        statements += rebuild_statements(vendor)
    return "\n".join(header) + SEPARATOR + SEPARATOR.join(statements) + SEPARATOR


def frozen_statements(text: str) -> list[str]:
    """The statements of a frozen file (the same reading every migration's own loader does)."""
    chunks = (chunk.strip() for chunk in text.split(SEPARATOR))
    return [chunk for chunk in chunks if chunk and not _comment_only(chunk)]


def _comment_only(chunk: str) -> bool:
    return all(line.startswith("--") for line in chunk.splitlines())
