"""The audit event moves to the audit app, its table unchanged: in Django's state only.

`grants_auditevent` was created by grants 0008 and keeps its name (`db_table`), its rows, its
indexes and every trigger that writes or guards it, so this migration touches nothing in the
database and ships no frozen trigger files (docs/triggers.md). grants 0020 removes the model from
the grants app's state in turn.
"""

import audit.models
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("grants", "0019_group_figures_say_what_they_count"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "occurred_at",
                            models.DateTimeField(editable=False, help_text="The database's clock."),
                        ),
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
                                    ("grants_importrecord", "Import"),
                                    ("grants_linechange", "Proposed change to a line"),
                                    ("grants_refusedattempt", "Refused attempt"),
                                    ("auth_user", "User"),
                                    ("auth_user_groups", "User's group"),
                                    ("auth_user_user_permissions", "User's permission"),
                                    ("auth_group", "Group"),
                                    ("auth_group_permissions", "Group's permission"),
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
                            models.JSONField(
                                decoder=audit.models.DecimalJSONDecoder, editable=False, null=True
                            ),
                        ),
                        (
                            "after",
                            models.JSONField(
                                decoder=audit.models.DecimalJSONDecoder, editable=False, null=True
                            ),
                        ),
                        ("fund_id", models.BigIntegerField(editable=False, null=True)),
                        ("allocation_id", models.BigIntegerField(editable=False, null=True)),
                        ("actor_id", models.BigIntegerField(editable=False, null=True)),
                        ("actor_username", models.CharField(blank=True, editable=False, max_length=150)),
                        ("reason", models.TextField(blank=True, editable=False)),
                        (
                            "db_user",
                            models.CharField(
                                blank=True, editable=False, max_length=63, verbose_name="database user"
                            ),
                        ),
                        (
                            "db_session_user",
                            models.CharField(
                                blank=True,
                                editable=False,
                                help_text="The database user the connection logged in as (PostgreSQL's session_user), which SET ROLE does not change.",
                                max_length=63,
                                verbose_name="database login",
                            ),
                        ),
                        (
                            "client_address",
                            models.GenericIPAddressField(
                                editable=False,
                                help_text="The address the database connection came from; empty over a local socket, and on SQLite.",
                                null=True,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "audit event",
                        "db_table": "grants_auditevent",
                        "ordering": ["-occurred_at", "-id"],
                        "default_permissions": ("view",),
                        "indexes": [
                            models.Index(fields=["table_name", "row_id"], name="audit_event_row_idx"),
                            models.Index(fields=["fund_id"], name="audit_event_fund_idx"),
                            models.Index(fields=["allocation_id"], name="audit_event_allocation_idx"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
