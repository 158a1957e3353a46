"""Spreadsheet imports: who imported which file (ImportRecord, audited like the ledger's tables) and
uploads waiting for their preview to be confirmed (PendingImport, not ledger data, not audited).

What it installs is frozen beside it (0009_import_record.sqlite.sql and .postgresql.sql, and
.reverse.* to undo it), recorded from the code it once called, so that it never changes with that
code (docs/triggers.md). Migration 0014 replaces every trigger with the frozen set of its day.
"""

import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.lookups
import django.utils.timezone
import uuid
from django.conf import settings
from pathlib import Path

from django.db import migrations, models


HERE = Path(__file__).resolve().parent
NAME = "0009_import_record"


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
        ("grants", "0008_audit_trail"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PendingImport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("file_name", models.CharField(max_length=255)),
                ("sha256", models.CharField(max_length=64, verbose_name="SHA-256")),
                ("content", models.BinaryField()),
                ("uploaded_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "fund",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="grants.fund"
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-uploaded_at"],
            },
        ),
        migrations.CreateModel(
            name="ImportRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("file_name", models.CharField(max_length=255)),
                (
                    "sha256",
                    models.CharField(
                        help_text="Of the file's bytes, in hex.", max_length=64, verbose_name="SHA-256"
                    ),
                ),
                ("imported_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ("lines_added", models.PositiveIntegerField()),
                ("amounts_changed", models.PositiveIntegerField()),
                ("lines_unchanged", models.PositiveIntegerField()),
                ("organisations_created", models.PositiveIntegerField()),
                (
                    "fund",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="imports", to="grants.fund"
                    ),
                ),
                (
                    "imported_by",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty for an import run from the command line without --user.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["fund", "-imported_at", "-pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=django.db.models.lookups.Exact(
                            django.db.models.functions.text.Length("sha256"), 64
                        ),
                        name="import_record_sha256_is_64_characters",
                        violation_error_message="A SHA-256 is 64 hexadecimal digits.",
                    )
                ],
            },
        ),
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
                ],
                editable=False,
                max_length=63,
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
