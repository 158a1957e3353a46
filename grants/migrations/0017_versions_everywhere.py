"""Every row people edit in forms carries a version, so a stale form is refused, not merged.

Funders, funds, category budgets, organisations, thematic areas and funding categories gain the
`version` column allocations already had (grants.models.Versioned); every saved change raises it
by one through `services.check_and_bump_version`. Existing rows start at 1 (a database default, so
a fixture or raw SQL that names no version still loads).

The audit triggers name every column of their table, and SQLite drops a table's triggers when a
migration remakes it, so this migration drops every trigger first and installs those frozen beside
it last (docs/triggers.md).
"""

from pathlib import Path

from django.db import migrations, models

HERE = Path(__file__).resolve().parent
NAME = "0017_versions_everywhere"
PREVIOUS = "0016_refused_attempts"


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
        ("grants", PREVIOUS),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.AddField(
            model_name="categorybudget",
            name="version",
            field=models.PositiveIntegerField(
                db_default=1,
                default=1,
                editable=False,
                help_text="Goes up by one with every saved change, so that a form opened before a colleague's change cannot overwrite it.",
            ),
        ),
        migrations.AddField(
            model_name="fund",
            name="version",
            field=models.PositiveIntegerField(
                db_default=1,
                default=1,
                editable=False,
                help_text="Goes up by one with every saved change, so that a form opened before a colleague's change cannot overwrite it.",
            ),
        ),
        migrations.AddField(
            model_name="funder",
            name="version",
            field=models.PositiveIntegerField(
                db_default=1,
                default=1,
                editable=False,
                help_text="Goes up by one with every saved change, so that a form opened before a colleague's change cannot overwrite it.",
            ),
        ),
        migrations.AddField(
            model_name="fundingcategory",
            name="version",
            field=models.PositiveIntegerField(
                db_default=1,
                default=1,
                editable=False,
                help_text="Goes up by one with every saved change, so that a form opened before a colleague's change cannot overwrite it.",
            ),
        ),
        migrations.AddField(
            model_name="organisation",
            name="version",
            field=models.PositiveIntegerField(
                db_default=1,
                default=1,
                editable=False,
                help_text="Goes up by one with every saved change, so that a form opened before a colleague's change cannot overwrite it.",
            ),
        ),
        migrations.AddField(
            model_name="thematicarea",
            name="version",
            field=models.PositiveIntegerField(
                db_default=1,
                default=1,
                editable=False,
                help_text="Goes up by one with every saved change, so that a form opened before a colleague's change cannot overwrite it.",
            ),
        ),
        migrations.AlterField(
            model_name="allocation",
            name="version",
            field=models.PositiveIntegerField(
                db_default=1,
                default=1,
                editable=False,
                help_text="Goes up by one with every saved change, so that a form opened before a colleague's change cannot overwrite it.",
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
