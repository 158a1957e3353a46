"""A return submitted with a variance says so (issue 18): each submission keeps the whole fund's
variance when it was submitted, which is not zero only when the approver confirmed, to the penny,
that they were submitting a return that does not reconcile.

The submissions' guard and audit triggers name the table's columns on SQLite, so it drops every
trigger first and installs those frozen beside it last (docs/triggers.md).
"""

from pathlib import Path

import django.db.models.functions.math
import djmoney.models.fields
import djmoney.money
import grants.models
from decimal import Decimal
from django.db import migrations, models


HERE = Path(__file__).resolve().parent
NAME = "0028_return_submitted_with_its_variance"
PREVIOUS = "0027_entries_on_their_lines_fund"


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
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.AddField(
            model_name="returnsubmission",
            name="variance",
            field=grants.models.GBPMoneyField(
                currency_choices=[("GBP", "Pound sterling")],
                decimal_places=2,
                default=djmoney.money.Money(0, "GBP"),
                editable=False,
                max_digits=14,
            ),
        ),
        migrations.AddField(
            model_name="returnsubmission",
            name="variance_currency",
            field=djmoney.models.fields.CurrencyField(
                choices=[("GBP", "Pound sterling")], default="GBP", editable=False, max_length=3
            ),
        ),
        migrations.AddConstraint(
            model_name="returnsubmission",
            constraint=models.CheckConstraint(
                condition=models.Q(("variance_currency", "GBP")),
                name="return_submission_variance_is_in_gbp",
                violation_error_message="Amounts must be in pounds sterling (GBP).",
            ),
        ),
        migrations.AddConstraint(
            model_name="returnsubmission",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("variance", django.db.models.functions.math.Round(models.F("variance"), 2))
                ),
                name="return_submission_variance_is_in_whole_pence",
                violation_error_message="Amounts must have at most 2 decimal places (whole pence).",
            ),
        ),
        migrations.AddConstraint(
            model_name="returnsubmission",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("variance__gt", Decimal("-1000000000000")), ("variance__lt", Decimal("1000000000000"))
                ),
                name="return_submission_variance_is_under_a_trillion",
                violation_error_message="Amounts must be less than £1,000,000,000,000.",
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
