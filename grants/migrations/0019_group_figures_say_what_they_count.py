"""Group figures say what they count: `line_count` (lines in the group), `awarded_line_count` (lines
with an approved award, those the totals count) and `pending_line_count` (lines with an award
awaiting approval), instead of `allocations`, `lines` and `pending_lines` (issue 15's naming pass).

The stored figures' triggers name these columns, so this migration drops every trigger first and
installs those frozen beside it last (docs/triggers.md).
"""

from pathlib import Path

from django.db import migrations, models

HERE = Path(__file__).resolve().parent
NAME = "0019_group_figures_say_what_they_count"
PREVIOUS = "0018_export_safe_names_audit_who"


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

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.RemoveConstraint(model_name="groupfigures", name="group_figures_counts_are_not_negative"),
        migrations.RenameField(model_name="groupfigures", old_name="allocations", new_name="line_count"),
        migrations.RenameField(model_name="groupfigures", old_name="lines", new_name="awarded_line_count"),
        migrations.RenameField(
            model_name="groupfigures", old_name="pending_lines", new_name="pending_line_count"
        ),
        migrations.AddConstraint(
            model_name="groupfigures",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("awarded_line_count__gte", 0),
                    ("line_count__gte", 0),
                    ("pending_entries__gte", 0),
                    ("pending_line_count__gte", 0),
                ),
                name="group_figures_counts_are_not_negative",
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
