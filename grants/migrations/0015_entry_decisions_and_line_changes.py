"""Entries can be rejected or withdrawn; changes to lines with approved money are proposed and approved.

- Ledger entries gain their rejection (who, when, why; a withdrawal is a rejection by the recorder),
  and `approved_outside_ledger`, set on the entries approved with no approver: the seed's decisions
  and the entries that stood before approvals existed (0006). CHECK constraints now require every
  other approval to name an approver who is not the recorder.
- `reverses` becomes a foreign key, unique among entries not rejected, so a rejected reversal does
  not stop the entry from being reversed again.
- LineChange: a proposed change of a line's provider, service, category or area.
- The triggers (frozen beside this migration, docs/triggers.md) guard the new columns, audit the
  new table, leave rejected entries out of the stored figures, and let only a data load record an
  entry as approved outside the ledger.
"""

from pathlib import Path

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

HERE = Path(__file__).resolve().parent
NAME = "0015_entry_decisions_and_line_changes"
PREVIOUS = "0014_triggers_frozen"


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


def mark_approvals_made_outside_the_ledger(apps, schema_editor):
    LedgerEntry = apps.get_model("grants", "LedgerEntry")
    # The historical model's manager: the live one refuses updates. The triggers are dropped here.
    LedgerEntry.objects.filter(approved_at__isnull=False, approved_by__isnull=True).update(
        approved_outside_ledger=True
    )


def unmark(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0014_triggers_frozen"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.CreateModel(
            name="LineChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("service", models.CharField(blank=True, max_length=200)),
                ("was_service", models.CharField(blank=True, max_length=200)),
                (
                    "reason",
                    models.TextField(
                        help_text="Why the line should change, e.g. the provider's letter of 3 May."
                    ),
                ),
                ("proposed_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ("approved_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("rejected_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("rejection_reason", models.TextField(blank=True, db_default="", editable=False)),
            ],
            options={
                "verbose_name": "proposed change to a line",
                "verbose_name_plural": "proposed changes to lines",
                "ordering": ["-proposed_at", "-pk"],
                "permissions": [
                    ("approve_linechange", "Can approve or reject changes to lines proposed by someone else")
                ],
            },
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="approved_outside_ledger",
            field=models.BooleanField(
                db_default=False,
                default=False,
                editable=False,
                help_text="Approved before it reached the ledger: a decision in the source document, or an entry that stood before approvals existed. Only a data load sets it.",
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="rejected_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="rejected_by",
            field=models.ForeignKey(
                blank=True,
                help_text="Who rejected it, or its recorder if they withdrew it.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="rejection_reason",
            field=models.TextField(blank=True, db_default="", editable=False),
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
                    ("grants_linechange", "Proposed change to a line"),
                ],
                editable=False,
                max_length=63,
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="reverses",
            field=models.ForeignKey(
                blank=True,
                help_text="The mistaken entry this one cancels.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reversals",
                to="grants.ledgerentry",
            ),
        ),
        migrations.RunPython(mark_approvals_made_outside_the_ledger, unmark),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("rejected_at__isnull", True)),
                fields=("reverses",),
                name="ledger_entry_is_reversed_at_most_once",
                violation_error_message="This entry has already been reversed.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_at__isnull", True),
                    ("approved_by__isnull", False),
                    models.Q(("approved_by__isnull", True), ("approved_outside_ledger", True)),
                    _connector="OR",
                ),
                name="ledger_entry_approval_names_its_approver",
                violation_error_message="An entry is approved by a named person.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("rejected_at__isnull", True), ("rejected_by__isnull", True), ("rejection_reason", "")
                    ),
                    models.Q(
                        ("rejected_at__isnull", False),
                        ("rejected_by__isnull", False),
                        models.Q(("rejection_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="ledger_entry_rejection_has_who_when_and_why",
                violation_error_message="A rejection or withdrawal needs who, when and why.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_at__isnull", True), ("rejected_at__isnull", True), _connector="OR"
                ),
                name="ledger_entry_is_not_both_approved_and_rejected",
                violation_error_message="An entry is either approved or rejected, not both.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_outside_ledger", False),
                    models.Q(("approved_at__isnull", False), ("approved_by__isnull", True)),
                    _connector="OR",
                ),
                name="ledger_entry_approved_outside_the_ledger_has_no_approver",
                violation_error_message="An entry approved before it reached the ledger names no approver.",
            ),
        ),
        migrations.AddField(
            model_name="linechange",
            name="allocation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="changes", to="grants.allocation"
            ),
        ),
        migrations.AddField(
            model_name="linechange",
            name="approved_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="linechange",
            name="fund",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="line_changes", to="grants.fund"
            ),
        ),
        migrations.AddField(
            model_name="linechange",
            name="funding_category",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="grants.fundingcategory"
            ),
        ),
        migrations.AddField(
            model_name="linechange",
            name="organisation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="grants.organisation"
            ),
        ),
        migrations.AddField(
            model_name="linechange",
            name="proposed_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="linechange",
            name="rejected_by",
            field=models.ForeignKey(
                blank=True,
                help_text="Who rejected it, or its proposer if they withdrew it.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="linechange",
            name="thematic_area",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="grants.thematicarea"
            ),
        ),
        migrations.AddField(
            model_name="linechange",
            name="was_funding_category",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="grants.fundingcategory"
            ),
        ),
        migrations.AddField(
            model_name="linechange",
            name="was_organisation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="grants.organisation"
            ),
        ),
        migrations.AddField(
            model_name="linechange",
            name="was_thematic_area",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="grants.thematicarea"
            ),
        ),
        migrations.AddConstraint(
            model_name="linechange",
            constraint=models.UniqueConstraint(
                condition=models.Q(("approved_at__isnull", True), ("rejected_at__isnull", True)),
                fields=("allocation",),
                name="line_change_one_awaits_approval_per_line",
                violation_error_message="A change to this line already awaits approval.",
            ),
        ),
        migrations.AddConstraint(
            model_name="linechange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("funding_category", models.F("was_funding_category")),
                    ("organisation", models.F("was_organisation")),
                    ("service", models.F("was_service")),
                    ("thematic_area", models.F("was_thematic_area")),
                    _negated=True,
                ),
                name="line_change_changes_something",
                violation_error_message="The proposed change leaves the line as it is.",
            ),
        ),
        migrations.AddConstraint(
            model_name="linechange",
            constraint=models.CheckConstraint(
                condition=models.Q(("reason", ""), _negated=True),
                name="line_change_gives_a_reason",
                violation_error_message="Say why the line should change.",
            ),
        ),
        migrations.AddConstraint(
            model_name="linechange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_by__isnull", True), ("approved_at__isnull", False), _connector="OR"
                ),
                name="line_change_approver_has_an_approval_time",
                violation_error_message="An approval needs its date and time.",
            ),
        ),
        migrations.AddConstraint(
            model_name="linechange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_at__isnull", True), ("approved_by__isnull", False), _connector="OR"
                ),
                name="line_change_approval_names_its_approver",
                violation_error_message="A proposed change is approved by a named person.",
            ),
        ),
        migrations.AddConstraint(
            model_name="linechange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_by__isnull", True),
                    ("proposed_by__isnull", True),
                    models.Q(("approved_by", models.F("proposed_by")), _negated=True),
                    _connector="OR",
                ),
                name="line_change_is_approved_by_someone_else",
                violation_error_message="A proposed change must be approved by someone other than who recorded it.",
            ),
        ),
        migrations.AddConstraint(
            model_name="linechange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("rejected_at__isnull", True), ("rejected_by__isnull", True), ("rejection_reason", "")
                    ),
                    models.Q(
                        ("rejected_at__isnull", False),
                        ("rejected_by__isnull", False),
                        models.Q(("rejection_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="line_change_rejection_has_who_when_and_why",
                violation_error_message="A rejection or withdrawal needs who, when and why.",
            ),
        ),
        migrations.AddConstraint(
            model_name="linechange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_at__isnull", True), ("rejected_at__isnull", True), _connector="OR"
                ),
                name="line_change_is_not_both_approved_and_rejected",
                violation_error_message="A proposed change is either approved or rejected, not both.",
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
