"""Every trigger the ledger's database holds, as the SQL that creates it, for each database.

Three families: the audit trail's (grants.audit), the stored figures' (grants.figures), and the
guards that keep history append-only (below). Migrations never call this module: a migration that
changes a trigger, or a table a trigger names, ships the output of `scripts/freeze_triggers.py`
beside it and reads those files (docs/triggers.md). The test suite checks that the newest frozen
files say what this module says, and that the database holds exactly those triggers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps

from grants import audit, figures

VENDORS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Guard:
    """A table whose rows never change once written, except `settable_once` columns, which may go
    from empty to a value together, once (an entry's approval, a submission's reopening)."""

    table: str
    settable_once: tuple[str, ...] = ()


GUARDS = (
    Guard("grants_ledgerentry", settable_once=("approved_at", "approved_by_id")),
    Guard("grants_returnsubmission", settable_once=("reopened_at", "reopened_by_id", "reopen_reason")),
    Guard("grants_controltotalrevision"),
)

POSTGRES_REFUSE_FUNCTION = """CREATE OR REPLACE FUNCTION grants_refuse_change_to_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are append-only: record a correcting entry instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$"""


def table_columns(table: str) -> list[str]:
    """The columns of an app table as the models declare them (the schema a migration leaves)."""
    for model in apps.get_app_config("grants").get_models():
        if model._meta.db_table == table:
            return [field.column for field in model._meta.local_concrete_fields]
    raise LookupError(f"No model of the grants app has the table {table}.")


def _row(prefix: str, columns) -> str:
    return "ROW(" + ", ".join(f"{prefix}.{column}" for column in columns) + ")"


def _guard_statements(vendor: str) -> list[str]:
    statements = [POSTGRES_REFUSE_FUNCTION] if vendor == "postgresql" else []
    for guard in GUARDS:
        table, once = guard.table, guard.settable_once
        fixed = [column for column in table_columns(table) if column not in once]
        if vendor == "postgresql":
            changed = f"{_row('OLD', fixed)} IS DISTINCT FROM {_row('NEW', fixed)}"
            if once:
                once_changed = f"{_row('OLD', once)} IS DISTINCT FROM {_row('NEW', once)}"
                changed += f" OR (OLD.{once[0]} IS NOT NULL AND {once_changed})"
            statements += [
                f"CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN ({changed}) EXECUTE FUNCTION grants_refuse_change_to_history()",
                f"CREATE TRIGGER {table}_refuse_delete BEFORE DELETE ON {table} FOR EACH ROW "
                "EXECUTE FUNCTION grants_refuse_change_to_history()",
            ]
        else:
            # No DELETE guard on SQLite: Django's test runner empties SQLite tables with DELETE.
            changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in fixed)
            if once:
                once_changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in once)
                changed += f" OR (OLD.{once[0]} IS NOT NULL AND ({once_changed}))"
            statements.append(
                f"CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN {changed} BEGIN SELECT RAISE(ABORT, 'rows of {table} are append-only: "
                "record a correcting entry instead'); END"
            )
    return statements


def install_statements(vendor: str) -> list[str]:
    """CREATE statements for every trigger (and, on PostgreSQL, trigger function) of the app, for a
    database whose tables are as the models are now and which holds no trigger yet."""
    if vendor not in VENDORS:
        raise NotImplementedError(f"No triggers written for {vendor}.")
    return [
        *_guard_statements(vendor),
        *audit.trigger_statements(vendor, audit.AUDITED_TABLES, table_columns),
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
