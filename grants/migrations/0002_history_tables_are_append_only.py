"""Ledger entries and control-total revisions are append-only in the database itself.

The models refuse updates and deletes through the ORM; these triggers refuse them from anything else
(raw SQL, another client). An UPDATE that changes nothing is let through so that reloading the same
fixture is harmless.

PostgreSQL refuses UPDATE and DELETE. SQLite refuses UPDATE; it does not get a DELETE trigger because
Django empties SQLite tables with DELETE between transactional tests (PostgreSQL uses TRUNCATE, which
row triggers do not see). The SQLite triggers name each column: a migration that adds a column to
either table must recreate its trigger.
"""

from django.db import migrations

TABLES = {
    "grants_ledgerentry": [
        "id",
        "uuid",
        "allocation_id",
        "kind",
        "amount",
        "amount_currency",
        "effective_date",
        "memo",
        "recorded_by_id",
        "recorded_at",
    ],
    "grants_controltotalrevision": [
        "id",
        "fund_id",
        "previous_amount",
        "previous_amount_currency",
        "new_amount",
        "new_amount_currency",
        "memo",
        "recorded_by_id",
        "recorded_at",
    ],
}

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION grants_refuse_change_to_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are append-only: record a correcting entry instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION, params=None)
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} FOR EACH ROW "
                "WHEN (OLD.* IS DISTINCT FROM NEW.*) "
                "EXECUTE FUNCTION grants_refuse_change_to_history()"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_refuse_delete BEFORE DELETE ON {table} FOR EACH ROW "
                "EXECUTE FUNCTION grants_refuse_change_to_history()"
            )
    elif vendor == "sqlite":
        for table, columns in TABLES.items():
            changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in columns)
            schema_editor.execute(
                f"CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN {changed} "
                f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are append-only: "
                "record a correcting entry instead'); END"
            )
    else:
        raise NotImplementedError(f"No append-only triggers written for {vendor}.")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_update ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_delete ON {table}")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_update")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS grants_refuse_change_to_history()")


class Migration(migrations.Migration):
    dependencies = [("grants", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
