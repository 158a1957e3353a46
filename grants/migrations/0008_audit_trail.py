"""The audit trail: a trigger on each audited table records every change in grants_auditevent.

See grants/audit.py for how the triggers work on each database. The tables are listed here, as they
are at this migration, rather than taken from the app, which may audit more tables later. The
SQLite triggers name each column as the table has it now: a later migration that changes an
audited table's columns, or remakes the table, must call `install_audit_triggers()` for it again.
"""

from django.db import migrations, models

import grants.audit
from grants.audit import (
    AuditedTable,
    drop_append_only_guard,
    drop_audit_triggers,
    install_append_only_guard,
    install_audit_triggers,
)

TABLES = {
    "grants_funder": AuditedTable("Funder"),
    "grants_fund": AuditedTable("Fund", fund_column="id"),
    "grants_controltotalrevision": AuditedTable("Control total revision", fund_column="fund_id"),
    "grants_categorybudget": AuditedTable("Category budget", fund_column="fund_id"),
    "grants_organisation": AuditedTable("Organisation"),
    "grants_thematicarea": AuditedTable("Thematic area"),
    "grants_fundingcategory": AuditedTable("Funding category"),
    "grants_allocation": AuditedTable("Allocation", fund_column="fund_id", allocation_column="id"),
    "grants_ledgerentry": AuditedTable(
        "Ledger entry", fund_column="fund_id", allocation_column="allocation_id"
    ),
    "grants_returnsubmission": AuditedTable(
        "Return submission", fund_column="fund_id", lengths_only=("workbook",)
    ),
}


def create_triggers(apps, schema_editor):
    install_append_only_guard(schema_editor)
    install_audit_triggers(schema_editor, TABLES)


def drop_triggers(apps, schema_editor):
    drop_audit_triggers(schema_editor, TABLES)
    drop_append_only_guard(schema_editor)


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
                    models.JSONField(decoder=grants.audit.DecimalJSONDecoder, editable=False, null=True),
                ),
                (
                    "after",
                    models.JSONField(decoder=grants.audit.DecimalJSONDecoder, editable=False, null=True),
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
