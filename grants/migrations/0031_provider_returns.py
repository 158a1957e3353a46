"""Provider returns (issue 17): each fund's reporting periods and the measures it asks for, and each
line's return for a period with its figures. The new tables are audited, so the migration drops every
trigger first and installs those frozen beside it last (docs/triggers.md).
"""

from pathlib import Path

import django.db.models.deletion
import django.db.models.functions.math
import django.db.models.functions.text
import django.db.models.lookups
import django.utils.timezone
import djmoney.models.fields
import grants.models
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


HERE = Path(__file__).resolve().parent
NAME = "0031_provider_returns"
PREVIOUS = "0030_organisation_triggers_know_contact_email"
# The newest frozen triggers before these.
PREVIOUS_FROZEN = "0030_organisation_triggers_know_contact_email"


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
        ("grants", "0030_organisation_triggers_know_contact_email"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS_FROZEN)),
        migrations.CreateModel(
            name="Measure",
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
                    "kind",
                    models.CharField(
                        choices=[("spend", "Spend by cost type (£)"), ("output", "Output (a count)")],
                        max_length=10,
                    ),
                ),
                ("name", models.CharField(max_length=100, validators=[grants.models.not_a_formula])),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "fund",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="measures", to="grants.fund"
                    ),
                ),
            ],
            options={
                "ordering": ["fund", "kind", "position", "pk"],
            },
        ),
        migrations.CreateModel(
            name="ProviderReturn",
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
                ("file_name", models.CharField(max_length=255)),
                ("sha256", models.CharField(max_length=64, verbose_name="SHA-256")),
                (
                    "period_spend_currency",
                    djmoney.models.fields.CurrencyField(
                        choices=[("GBP", "Pound sterling")], default="GBP", editable=False, max_length=3
                    ),
                ),
                (
                    "period_spend",
                    grants.models.GBPMoneyField(
                        currency_choices=[("GBP", "Pound sterling")],
                        decimal_places=2,
                        help_text="The period's spend, as the provider stated its total.",
                        max_digits=14,
                    ),
                ),
                (
                    "spend_to_date_currency",
                    djmoney.models.fields.CurrencyField(
                        choices=[("GBP", "Pound sterling")], default="GBP", editable=False, max_length=3
                    ),
                ),
                (
                    "spend_to_date",
                    grants.models.GBPMoneyField(
                        currency_choices=[("GBP", "Pound sterling")],
                        decimal_places=2,
                        help_text="Spend in the financial year up to the period's end.",
                        max_digits=14,
                    ),
                ),
                ("explanation", models.TextField(blank=True, validators=[grants.models.not_a_formula])),
                ("imported_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("accepted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "accepted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "allocation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="provider_returns",
                        to="grants.allocation",
                    ),
                ),
                (
                    "imported_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["allocation", "period__start"],
                "permissions": [
                    ("accept_providerreturn", "Can accept a provider return imported by someone else")
                ],
            },
        ),
        migrations.CreateModel(
            name="ProviderReturnValue",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.DecimalField(decimal_places=2, max_digits=14)),
                (
                    "measure",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="grants.measure"
                    ),
                ),
                (
                    "provider_return",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="values",
                        to="grants.providerreturn",
                    ),
                ),
            ],
            options={
                "ordering": ["provider_return", "measure__kind", "measure__position", "measure"],
            },
        ),
        migrations.CreateModel(
            name="ReportingPeriod",
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
                ("start", models.DateField()),
                ("end", models.DateField()),
                ("due_date", models.DateField(help_text="When providers' returns for the period are due.")),
                (
                    "fund",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reporting_periods",
                        to="grants.fund",
                    ),
                ),
            ],
            options={
                "ordering": ["fund", "start"],
            },
        ),
        migrations.AddField(
            model_name="providerreturn",
            name="period",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="returns",
                to="grants.reportingperiod",
            ),
        ),
        migrations.AddConstraint(
            model_name="measure",
            constraint=models.UniqueConstraint(
                fields=("fund", "name"),
                name="measure_name_is_used_once_per_fund",
                violation_error_message="The fund already asks for a measure of that name.",
            ),
        ),
        migrations.AddConstraint(
            model_name="measure",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["spend", "output"])),
                name="measure_kind_is_spend_or_output",
                violation_error_message="A measure is spend by cost type or an output.",
            ),
        ),
        migrations.AddConstraint(
            model_name="measure",
            constraint=models.CheckConstraint(
                condition=models.Q(("name", ""), _negated=True),
                name="measure_has_a_name",
                violation_error_message="Give the measure a name.",
            ),
        ),
        migrations.AddConstraint(
            model_name="measure",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("name__startswith", "="),
                    ("name__startswith", "+"),
                    ("name__startswith", "-"),
                    ("name__startswith", "@"),
                    ("name__startswith", "\t"),
                    ("name__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="measure_name_does_not_begin_like_a_formula",
                violation_error_message="A measure's name cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturnvalue",
            constraint=models.UniqueConstraint(
                fields=("provider_return", "measure"),
                name="provider_return_value_is_one_per_measure",
                violation_error_message="A return holds one figure per measure.",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturnvalue",
            constraint=models.CheckConstraint(
                condition=models.Q(("value__gte", 0)),
                name="provider_return_value_is_not_negative",
                violation_error_message="A figure in a return cannot be negative.",
            ),
        ),
        migrations.AddConstraint(
            model_name="reportingperiod",
            constraint=models.UniqueConstraint(
                fields=("fund", "start"), name="reporting_period_starts_once_per_fund"
            ),
        ),
        migrations.AddConstraint(
            model_name="reportingperiod",
            constraint=models.CheckConstraint(
                condition=models.Q(("end__gt", models.F("start"))),
                name="reporting_period_ends_after_it_starts",
                violation_error_message="A reporting period ends after it starts.",
            ),
        ),
        migrations.AddConstraint(
            model_name="reportingperiod",
            constraint=models.CheckConstraint(
                condition=models.Q(("due_date__gte", models.F("end"))),
                name="reporting_period_is_due_on_or_after_its_end",
                violation_error_message="A return cannot be due before its period ends.",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.UniqueConstraint(
                fields=("allocation", "period"),
                name="provider_return_is_one_per_line_and_period",
                violation_error_message="This line already has a return for that period.",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.Exact(
                    django.db.models.functions.text.Length("sha256"), 64
                ),
                name="provider_return_sha256_is_64_characters",
                violation_error_message="A SHA-256 is 64 hexadecimal digits.",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("accepted_at__isnull", True), ("accepted_by__isnull", True)),
                    models.Q(("accepted_at__isnull", False), ("accepted_by__isnull", False)),
                    _connector="OR",
                ),
                name="provider_return_acceptance_has_who_and_when",
                violation_error_message="An acceptance names who accepted the return, and when.",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("accepted_by__isnull", True),
                    models.Q(("accepted_by", models.F("imported_by")), _negated=True),
                    _connector="OR",
                ),
                name="provider_return_is_accepted_by_someone_else",
                violation_error_message="A return is accepted by someone other than who imported it.",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.CheckConstraint(
                condition=models.Q(("period_spend__gte", 0), ("spend_to_date__gte", 0)),
                name="provider_return_spend_is_not_negative",
                violation_error_message="Spend cannot be negative.",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("explanation__startswith", "="),
                    ("explanation__startswith", "+"),
                    ("explanation__startswith", "-"),
                    ("explanation__startswith", "@"),
                    ("explanation__startswith", "\t"),
                    ("explanation__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="provider_return_explanation_does_not_begin_like_a_formula",
                violation_error_message="An explanation cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.CheckConstraint(
                condition=models.Q(("period_spend_currency", "GBP")),
                name="provider_return_period_spend_is_in_gbp",
                violation_error_message="Amounts must be in pounds sterling (GBP).",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("period_spend", django.db.models.functions.math.Round(models.F("period_spend"), 2))
                ),
                name="provider_return_period_spend_is_in_whole_pence",
                violation_error_message="Amounts must have at most 2 decimal places (whole pence).",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("period_spend__gt", Decimal("-1000000000000")),
                    ("period_spend__lt", Decimal("1000000000000")),
                ),
                name="provider_return_period_spend_is_under_a_trillion",
                violation_error_message="Amounts must be less than £1,000,000,000,000.",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.CheckConstraint(
                condition=models.Q(("spend_to_date_currency", "GBP")),
                name="provider_return_spend_to_date_is_in_gbp",
                violation_error_message="Amounts must be in pounds sterling (GBP).",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("spend_to_date", django.db.models.functions.math.Round(models.F("spend_to_date"), 2))
                ),
                name="provider_return_spend_to_date_is_in_whole_pence",
                violation_error_message="Amounts must have at most 2 decimal places (whole pence).",
            ),
        ),
        migrations.AddConstraint(
            model_name="providerreturn",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("spend_to_date__gt", Decimal("-1000000000000")),
                    ("spend_to_date__lt", Decimal("1000000000000")),
                ),
                name="provider_return_spend_to_date_is_under_a_trillion",
                violation_error_message="Amounts must be less than £1,000,000,000,000.",
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
