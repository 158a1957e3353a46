"""Financial years (issue 16): a fund's profile, a `FundYear` per financial year with the funder's
control total for it (audited), and `ControlTotalRevision.year`, so a change to one year's figure is
kept as the fund's total is.

SQLite remakes the control-total revisions' table to add the column, dropping its guard and audit
triggers, which name its columns; so this migration drops every trigger first and installs those
frozen beside it last (docs/triggers.md).
"""

from pathlib import Path

import django.db.models.deletion
import django.db.models.functions.math
import djmoney.models.fields
import grants.models
from decimal import Decimal
from django.db import migrations, models


HERE = Path(__file__).resolve().parent
NAME = "0022_financial_year_profile"
PREVIOUS = "0021_lines_unique_by_area_and_category_import_value_mappings"


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
        ("grants", "0021_lines_unique_by_area_and_category_import_value_mappings"),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.AddField(
            model_name="controltotalrevision",
            name="year",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="The financial year whose figure changed (2023 is 2023-24); empty for the fund's total.",
                null=True,
            ),
        ),
        migrations.CreateModel(
            name="FundYear",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "version",
                    models.PositiveIntegerField(
                        db_default=1,
                        default=1,
                        editable=False,
                        help_text="Goes up by one with every saved change, so that a form opened before a colleague's change cannot overwrite it.",
                    ),
                ),
                (
                    "year",
                    models.PositiveSmallIntegerField(
                        help_text="The calendar year the financial year starts in: 2023 is 2023-24 (1 April 2023 to 31 March 2024)."
                    ),
                ),
                (
                    "control_total_currency",
                    djmoney.models.fields.CurrencyField(
                        choices=[("GBP", "Pound sterling")], default="GBP", editable=False, max_length=3
                    ),
                ),
                (
                    "control_total",
                    grants.models.GBPMoneyField(
                        currency_choices=[("GBP", "Pound sterling")],
                        decimal_places=2,
                        help_text="The funder's amount for this year, on its award paperwork.",
                        max_digits=14,
                    ),
                ),
                (
                    "fund",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="years", to="grants.fund"
                    ),
                ),
            ],
            options={
                "ordering": ["fund", "year"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("fund", "year"),
                        name="fund_year_is_unique_within_its_fund",
                        violation_error_message="This fund already has a figure for that financial year.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("year__gte", 2000), ("year__lte", 2099)),
                        name="fund_year_is_a_year_the_ledger_holds",
                        violation_error_message="A financial year starts between 2000 and 2099.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("control_total__gte", 0)),
                        name="fund_year_control_total_is_not_negative",
                        violation_error_message="A year's control total cannot be less than £0.00.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("control_total_currency", "GBP")),
                        name="fund_year_control_total_is_in_gbp",
                        violation_error_message="Amounts must be in pounds sterling (GBP).",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "control_total",
                                django.db.models.functions.math.Round(models.F("control_total"), 2),
                            )
                        ),
                        name="fund_year_control_total_is_in_whole_pence",
                        violation_error_message="Amounts must have at most 2 decimal places (whole pence).",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("control_total__gt", Decimal("-1000000000000")),
                            ("control_total__lt", Decimal("1000000000000")),
                        ),
                        name="fund_year_control_total_is_under_a_trillion",
                        violation_error_message="Amounts must be less than £1,000,000,000,000.",
                    ),
                ],
            },
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
