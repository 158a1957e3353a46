"""A fund's measure can be retired (issue 17's follow-ups): `retired_at` on the measure, so that an
output added by mistake is left out of new workbooks but kept in the returns already made.

The audit triggers name each table's columns, so it drops every trigger first and installs those
frozen beside it last (docs/triggers.md): the measure's audit trail records its retirement.
"""

from pathlib import Path

from django.db import migrations, models

HERE = Path(__file__).resolve().parent
NAME = "0036_measure_retired"
PREVIOUS = "0035_fund_beneficiary_location"


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
        ("grants", "0035_fund_beneficiary_location"),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.AddField(
            model_name="measure",
            name="retired_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the fund stopped asking for it: kept in returns made, left out of new workbooks.",
                null=True,
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
