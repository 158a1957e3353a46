"""Refused attempts: a change a service refused is recorded, with who tried it and why.

- RefusedAttempt: written after the refused change has rolled back, append-only like the entries.
- The triggers (frozen beside this migration, docs/triggers.md) audit the new table and keep its
  rows from being changed.
"""

from pathlib import Path

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

HERE = Path(__file__).resolve().parent
NAME = "0016_refused_attempts"
PREVIOUS = "0015_entry_decisions_and_line_changes"


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
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.AlterField(
            model_name="auditevent",
            name="table_name",
            field=models.CharField(
                choices=[
                    ("grants_funder", "Funder"),
                    ("grants_fund", "Fund"),
                    ("grants_controltotalrevision", "Control total revision"),
                    ("grants_categorybudget", "Category budget"),
                    ("grants_organisation", "Organisation"),
                    ("grants_thematicarea", "Thematic area"),
                    ("grants_fundingcategory", "Funding category"),
                    ("grants_allocation", "Allocation"),
                    ("grants_ledgerentry", "Ledger entry"),
                    ("grants_returnsubmission", "Return submission"),
                    ("grants_importrecord", "Import"),
                    ("grants_linechange", "Proposed change to a line"),
                    ("grants_refusedattempt", "Refused attempt"),
                ],
                editable=False,
                max_length=63,
            ),
        ),
        migrations.CreateModel(
            name="RefusedAttempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("attempted_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "action",
                    models.CharField(
                        help_text="The service that refused, e.g. payment_record.", max_length=100
                    ),
                ),
                (
                    "target",
                    models.CharField(blank=True, help_text="What it was asked to change.", max_length=200),
                ),
                ("fund_id", models.BigIntegerField(blank=True, null=True)),
                ("allocation_id", models.BigIntegerField(blank=True, null=True)),
                ("message", models.TextField()),
                (
                    "attempted_by",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty for a command run without --user.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-attempted_at", "-pk"],
                "default_permissions": ("view",),
                "indexes": [models.Index(fields=["fund_id"], name="refused_attempt_fund_idx")],
            },
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
