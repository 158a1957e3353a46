"""A submitted fund is frozen by the database as well as by the services (issue 16): while its MoJ
return is in force no entry is recorded or decided on it, no line, financial year or category budget
is added, changed or removed, and its facts do not change; and a fund with financial years has a
control total equal to their sum (PostgreSQL checks the years when the transaction commits; SQLite
checks the fund's side).

It only installs triggers: it drops every trigger and installs those frozen beside it
(docs/triggers.md).
"""

from pathlib import Path

from django.db import migrations


HERE = Path(__file__).resolve().parent
NAME = "0023_submitted_fund_frozen_in_the_database"
PREVIOUS = "0022_financial_year_profile"


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
