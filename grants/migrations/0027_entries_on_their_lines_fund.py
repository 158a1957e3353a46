"""An entry on a line is recorded against that line's fund, and a line never moves to another fund,
so the submitted fund's lock (0023) and the stored figures, which read an entry's fund, cannot be
walked around by an entry naming another fund; a carry-forward leg is never inserted already
decided (which would decide one leg alone), except by a data load; and a proposed change to a line
is frozen with its fund while the fund's return is in force (found by the hostile reading of issue 16).

It only installs triggers: it drops every trigger and installs those frozen beside it
(docs/triggers.md).
"""

from pathlib import Path

from django.db import migrations


HERE = Path(__file__).resolve().parent
NAME = "0027_entries_on_their_lines_fund"
PREVIOUS = "0026_figures_by_financial_year"


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
    dependencies = [("grants", PREVIOUS)]

    operations = [migrations.RunPython(install(NAME), install(PREVIOUS))]
