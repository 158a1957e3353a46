"""Install the triggers again with the guard that keeps a settled instalment as planned.

The service refuses changing an instalment's date, amount, timing or line, or deleting it, while a
payment that stands settles it (not rejected, no approved reversal; one awaiting approval stands);
now the database refuses it too: UPDATE on both databases, DELETE on PostgreSQL (SQLite's test
runner empties tables with DELETE). This drops every trigger and installs those frozen beside it
(docs/triggers.md); going back installs 0033's.
"""

from pathlib import Path

from django.db import migrations

HERE = Path(__file__).resolve().parent
NAME = "0034_instalment_settled_is_kept"
PREVIOUS = "0033_open_data_and_grants_register"


def frozen(name, vendor):
    text = (HERE / f"{name}.{vendor}.sql").read_text()
    chunks = (chunk.strip() for chunk in text.split("\n;\n"))
    return [
        chunk for chunk in chunks if chunk and not all(line.startswith("--") for line in chunk.splitlines())
    ]


def drop_all_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
            )
            for trigger, table in cursor.fetchall():
                schema_editor.execute(f'DROP TRIGGER "{trigger}" ON "{table}"')
            cursor.execute(
                "SELECT proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace "
                "AND prorettype = 'trigger'::regtype AND proname LIKE 'grants%%'"
            )
            for (function,) in cursor.fetchall():
                schema_editor.execute(f'DROP FUNCTION "{function}"()')
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (trigger,) in cursor.fetchall():
                schema_editor.execute(f'DROP TRIGGER "{trigger}"')


def install(name):
    def run(apps, schema_editor):
        drop_all_triggers(apps, schema_editor)
        for statement in frozen(name, schema_editor.connection.vendor):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0033_open_data_and_grants_register"),
    ]

    operations = [
        migrations.RunPython(install(NAME), install(PREVIOUS)),
    ]
