"""The audit trail: a trigger on each audited table records every change in grants_auditevent.

See docs/triggers.md for how the triggers work on each database. The SQLite triggers name each
column as the table had it then.

What it installs is frozen beside it (0008_audit_trail.sqlite.sql and .postgresql.sql, and
.reverse.* to undo it), recorded from the code it once called, so that it never changes with that
code (docs/triggers.md). Migration 0014 replaces every trigger with the frozen set of its day.
"""

import json
from decimal import Decimal
from pathlib import Path

from django.db import migrations, models

HERE = Path(__file__).resolve().parent
NAME = "0008_audit_trail"


class DecimalJSONDecoder(json.JSONDecoder):
    """A frozen copy of the events' decoder (now audit.models.DecimalJSONDecoder): numbers with a
    decimal point read as `Decimal`. Only the historical model uses it; the schema does not."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parse_float", Decimal)
        super().__init__(*args, **kwargs)


def frozen(name, vendor):
    text = (HERE / f"{name}.{vendor}.sql").read_text()
    chunks = (chunk.strip() for chunk in text.split("\n;\n"))
    return [
        chunk for chunk in chunks if chunk and not all(line.startswith("--") for line in chunk.splitlines())
    ]


def create_triggers(apps, schema_editor):
    for statement in frozen(NAME, schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in frozen(f"{NAME}.reverse", schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0007_roles"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("occurred_at", models.DateTimeField(editable=False, help_text="The database's clock.")),
                (
                    "table_name",
                    models.CharField(
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
                        ],
                        editable=False,
                        max_length=63,
                    ),
                ),
                ("row_id", models.BigIntegerField(editable=False)),
                (
                    "action",
                    models.CharField(
                        choices=[("insert", "Added"), ("update", "Changed"), ("delete", "Deleted")],
                        editable=False,
                        max_length=6,
                    ),
                ),
                (
                    "before",
                    models.JSONField(decoder=DecimalJSONDecoder, editable=False, null=True),
                ),
                (
                    "after",
                    models.JSONField(decoder=DecimalJSONDecoder, editable=False, null=True),
                ),
                ("fund_id", models.BigIntegerField(editable=False, null=True)),
                ("allocation_id", models.BigIntegerField(editable=False, null=True)),
                ("actor_id", models.BigIntegerField(editable=False, null=True)),
                ("actor_username", models.CharField(blank=True, editable=False, max_length=150)),
                ("reason", models.TextField(blank=True, editable=False)),
                (
                    "db_user",
                    models.CharField(blank=True, editable=False, max_length=63, verbose_name="database user"),
                ),
            ],
            options={
                "verbose_name": "audit event",
                "ordering": ["-occurred_at", "-id"],
                "default_permissions": ("view",),
                "indexes": [
                    models.Index(fields=["table_name", "row_id"], name="audit_event_row_idx"),
                    models.Index(fields=["fund_id"], name="audit_event_fund_idx"),
                    models.Index(fields=["allocation_id"], name="audit_event_allocation_idx"),
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
