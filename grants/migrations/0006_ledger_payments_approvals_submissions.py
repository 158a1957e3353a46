"""Payments, returned underspend and returns to the funder; reversals; approval; submitted returns.

Ledger entries gain the fund they belong to (so that a return to the funder, which is on no
allocation, sits in the same append-only table), a reference, a link to the entry they reverse and
their approval. Entries already recorded were counted in every total before approval existed: they
are marked approved as of when they were recorded, so no figure changes on upgrade.

The append-only triggers of 0002 are replaced for ledger entries, and added for return submissions,
by ones that also allow the single change each row may take: its approval (entries) or its reopening
(submissions), once, with every other column untouched. The SQLite triggers name each column: a
migration that adds a column to either table must recreate its trigger.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


# Columns that never change once a row is written, and the columns that may be set once, when the
# first of them goes from NULL to a value.
GUARDED = {
    "grants_ledgerentry": (
        [
            "id",
            "uuid",
            "fund_id",
            "allocation_id",
            "kind",
            "amount",
            "amount_currency",
            "effective_date",
            "reference",
            "reverses_id",
            "memo",
            "recorded_by_id",
            "recorded_at",
        ],
        ["approved_at", "approved_by_id"],
    ),
    "grants_returnsubmission": (
        [
            "id",
            "fund_id",
            "version",
            "file_name",
            "workbook",
            "sha256",
            "submitted_by_id",
            "submitted_at",
        ],
        ["reopened_at", "reopened_by_id", "reopen_reason"],
    ),
}

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION grants_refuse_change_to_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are append-only: record a correcting entry instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""


def _row(prefix, columns):
    return "ROW(" + ", ".join(f"{prefix}.{column}" for column in columns) + ")"


def drop_old_ledger_entry_triggers(apps, schema_editor):
    table = "grants_ledgerentry"
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_update ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_delete ON {table}")
    else:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_update")


def create_guard_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, (fixed, settable_once) in GUARDED.items():
        key = settable_once[0]
        if vendor == "postgresql":
            schema_editor.execute(POSTGRES_FUNCTION, params=None)
            changed = (
                f"{_row('OLD', fixed)} IS DISTINCT FROM {_row('NEW', fixed)} OR (OLD.{key} IS NOT NULL "
                f"AND {_row('OLD', settable_once)} IS DISTINCT FROM {_row('NEW', settable_once)})"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN ({changed}) EXECUTE FUNCTION grants_refuse_change_to_history()"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_refuse_delete BEFORE DELETE ON {table} FOR EACH ROW "
                "EXECUTE FUNCTION grants_refuse_change_to_history()"
            )
        elif vendor == "sqlite":
            fixed_changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in fixed)
            once_changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in settable_once)
            schema_editor.execute(
                f"CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN {fixed_changed} OR (OLD.{key} IS NOT NULL AND ({once_changed})) "
                f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are append-only: "
                "record a correcting entry instead'); END"
            )
        else:
            raise NotImplementedError(f"No append-only triggers written for {vendor}.")


def drop_guard_triggers(apps, schema_editor):
    for table in GUARDED:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_update ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_delete ON {table}")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_update")


def entries_belong_to_their_fund_and_stand_approved(apps, schema_editor):
    LedgerEntry = apps.get_model("grants", "LedgerEntry")
    Allocation = apps.get_model("grants", "Allocation")
    fund_of_line = Allocation.objects.filter(pk=models.OuterRef("allocation_id")).values("fund_id")[:1]
    # QuerySet.update() on the historical model: the live model's append-only manager is not used here.
    LedgerEntry.objects.update(fund_id=models.Subquery(fund_of_line), approved_at=models.F("recorded_at"))
    if schema_editor.connection.vendor == "postgresql":
        # Fire the deferred foreign-key checks now, so the ALTER TABLEs that follow may run.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def nothing(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0005_organisation_number_formats"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_old_ledger_entry_triggers, nothing),
        migrations.CreateModel(
            name="ReturnSubmission",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField()),
                ("file_name", models.CharField(max_length=200)),
                ("workbook", models.BinaryField()),
                ("sha256", models.CharField(editable=False, max_length=64, verbose_name="SHA-256")),
                ("submitted_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ("reopened_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("reopen_reason", models.TextField(blank=True)),
            ],
            options={
                "ordering": ["fund", "-version"],
                "permissions": [("reopen_returnsubmission", "Can reopen a fund whose return was submitted")],
            },
        ),
        migrations.AlterModelOptions(
            name="ledgerentry",
            options={
                "ordering": ["fund", "allocation", "recorded_at", "pk"],
                "permissions": [
                    ("approve_ledgerentry", "Can approve ledger entries recorded by someone else")
                ],
                "verbose_name": "ledger entry",
                "verbose_name_plural": "ledger entries",
            },
        ),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_entry_kind_is_a_known_kind",
        ),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_entry_award_is_positive",
        ),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_entry_allocation_has_one_award",
        ),
        migrations.AddField(
            model_name="allocation",
            name="version",
            field=models.PositiveIntegerField(
                default=1,
                editable=False,
                help_text="Goes up by one with every saved change, so that a form opened before a colleague's change cannot overwrite it.",
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="approved_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="approved_by",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty while awaiting approval, and for decisions approved before they were loaded.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="fund",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="grants.fund",
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="reference",
            field=models.CharField(
                blank=True, help_text="Payment or remittance reference, e.g. BACS-2020-0142.", max_length=100
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="reverses",
            field=models.OneToOneField(
                blank=True,
                help_text="The mistaken entry this one cancels.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reversed_by",
                to="grants.ledgerentry",
            ),
        ),
        migrations.RunPython(entries_belong_to_their_fund_and_stand_approved, nothing),
        migrations.AlterField(
            model_name="ledgerentry",
            name="fund",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="entries", to="grants.fund"
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="allocation",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty only for money the office returns to the funder.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="grants.allocation",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="effective_date",
            field=models.DateField(help_text="The date the award, change or payment took effect."),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("award", "Award"),
                    ("variation", "Variation"),
                    ("payment", "Payment to provider"),
                    ("underspend_returned", "Underspend returned by provider"),
                    ("returned_to_funder", "Returned to funder"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        ["award", "variation", "payment", "underspend_returned", "returned_to_funder"],
                    )
                ),
                name="ledger_entry_kind_is_a_known_kind",
                violation_error_message="Unknown kind of ledger entry.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("allocation__isnull", True), ("kind", "returned_to_funder")),
                    models.Q(
                        models.Q(("kind", "returned_to_funder"), _negated=True), ("allocation__isnull", False)
                    ),
                    _connector="OR",
                ),
                name="ledger_entry_is_on_an_allocation_unless_returned_to_funder",
                violation_error_message="Only a return to the funder is recorded against the fund itself.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("kind", "variation"),
                    models.Q(("amount__gt", 0), ("reverses__isnull", True)),
                    models.Q(("amount__lt", 0), ("reverses__isnull", False)),
                    _connector="OR",
                ),
                name="ledger_entry_is_positive_unless_a_reversal_or_variation",
                violation_error_message="The amount must be more than £0.00.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("kind__in", ["payment", "underspend_returned", "returned_to_funder"]), _negated=True
                    ),
                    models.Q(("reference", ""), _negated=True),
                    _connector="OR",
                ),
                name="ledger_entry_money_movement_has_a_reference",
                violation_error_message="Give the payment or remittance reference.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_by__isnull", True), ("approved_at__isnull", False), _connector="OR"
                ),
                name="ledger_entry_approver_has_an_approval_time",
                violation_error_message="An approval needs its date and time.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_by__isnull", True),
                    ("recorded_by__isnull", True),
                    models.Q(("approved_by", models.F("recorded_by")), _negated=True),
                    _connector="OR",
                ),
                name="ledger_entry_is_approved_by_someone_else",
                violation_error_message="An entry must be approved by someone other than who recorded it.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "award"), ("reverses__isnull", True)),
                fields=("allocation",),
                name="ledger_entry_allocation_has_one_award",
                violation_error_message="This allocation already has its award; record a variation.",
            ),
        ),
        migrations.AddField(
            model_name="returnsubmission",
            name="fund",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="submissions", to="grants.fund"
            ),
        ),
        migrations.AddField(
            model_name="returnsubmission",
            name="reopened_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="returnsubmission",
            name="submitted_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddConstraint(
            model_name="returnsubmission",
            constraint=models.UniqueConstraint(
                fields=("fund", "version"),
                name="return_submission_version_is_unique_per_fund",
                violation_error_message="This fund already has a submission with that version.",
            ),
        ),
        migrations.AddConstraint(
            model_name="returnsubmission",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reopened_at__isnull", True)),
                fields=("fund",),
                name="return_submission_one_in_force_per_fund",
                violation_error_message="This fund's return is already submitted; reopen it first.",
            ),
        ),
        migrations.AddConstraint(
            model_name="returnsubmission",
            constraint=models.CheckConstraint(
                condition=models.Q(("version__gt", 0)),
                name="return_submission_version_is_positive",
                violation_error_message="Versions start at 1.",
            ),
        ),
        migrations.AddConstraint(
            model_name="returnsubmission",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("reopen_reason", ""), ("reopened_at__isnull", True), ("reopened_by__isnull", True)
                    ),
                    models.Q(
                        ("reopened_at__isnull", False),
                        ("reopened_by__isnull", False),
                        models.Q(("reopen_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="return_submission_reopening_has_who_when_and_why",
                violation_error_message="Reopening a fund needs who, when and why.",
            ),
        ),
        migrations.RunPython(create_guard_triggers, drop_guard_triggers),
    ]
