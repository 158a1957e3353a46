"""Payment schedules (issue 17): a line's planned instalments, each settled by at most one payment of
its own line that stands, audited like every table of the ledger.

Installs every trigger frozen beside it last (docs/triggers.md): the instalments' audit triggers, the
check on the payment that settles an instalment, and the refusal of any change to a schedule while
its line's fund has a submitted return in force.
"""

from pathlib import Path

import django.db.models.deletion
import django.db.models.functions.math
import djmoney.models.fields
import grants.models
from decimal import Decimal
from django.db import migrations, models


HERE = Path(__file__).resolve().parent
NAME = "0032_payment_schedules"
PREVIOUS = "0031_provider_returns"


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
        ("grants", "0031_provider_returns"),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.CreateModel(
            name="Instalment",
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
                ("due_date", models.DateField(help_text="The day the office plans to pay it.")),
                (
                    "amount_currency",
                    djmoney.models.fields.CurrencyField(
                        choices=[("GBP", "Pound sterling")], default="GBP", editable=False, max_length=3
                    ),
                ),
                (
                    "amount",
                    grants.models.GBPMoneyField(
                        currency_choices=[("GBP", "Pound sterling")],
                        decimal_places=2,
                        help_text="Pounds and pence, more than £0.00.",
                        max_digits=14,
                    ),
                ),
                (
                    "timing",
                    models.CharField(
                        choices=[("advance", "In advance"), ("arrears", "In arrears")],
                        default="arrears",
                        help_text="In advance: paid at the start of the period it funds; in arrears: at its end.",
                        max_length=7,
                    ),
                ),
                (
                    "allocation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="instalments",
                        to="grants.allocation",
                    ),
                ),
                (
                    "settled_by",
                    models.OneToOneField(
                        blank=True,
                        editable=False,
                        help_text="The payment recorded against this instalment, if any; a rejected payment, or one whose reversal is approved, no longer settles it.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="settles",
                        to="grants.ledgerentry",
                    ),
                ),
            ],
            options={
                "verbose_name": "planned instalment",
                "verbose_name_plural": "planned instalments",
                "ordering": ["allocation", "due_date", "pk"],
                "indexes": [models.Index(fields=["due_date", "allocation"], name="instalment_due_date")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)),
                        name="instalment_amount_is_more_than_nothing",
                        violation_error_message="An instalment's amount must be more than £0.00.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("timing__in", ["advance", "arrears"])),
                        name="instalment_timing_is_in_advance_or_in_arrears",
                        violation_error_message="An instalment is paid in advance or in arrears.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("amount_currency", "GBP")),
                        name="instalment_amount_is_in_gbp",
                        violation_error_message="Amounts must be in pounds sterling (GBP).",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("amount", django.db.models.functions.math.Round(models.F("amount"), 2))
                        ),
                        name="instalment_amount_is_in_whole_pence",
                        violation_error_message="Amounts must have at most 2 decimal places (whole pence).",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("amount__gt", Decimal("-1000000000000")),
                            ("amount__lt", Decimal("1000000000000")),
                        ),
                        name="instalment_amount_is_under_a_trillion",
                        violation_error_message="Amounts must be less than £1,000,000,000,000.",
                    ),
                ],
            },
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
