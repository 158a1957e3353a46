"""Open data and the statutory grants register (issue 19): an organisation's registered numbers in
the forms 360Giving's Data Quality Tool accepts, its registered address, postcode and location code;
a fund's publication facts (data source, register defaults, the public page's switch); and a line's
register text in its own audited table.

The audit triggers name each table's columns on SQLite, so it drops every trigger first and installs
those frozen beside it last (docs/triggers.md): SQLite rebuilds a table when a column is added, and
drops its triggers with it.
"""

from pathlib import Path

import django.core.validators
import django.db.models.deletion
import grants.models
from django.db import migrations, models


HERE = Path(__file__).resolve().parent
NAME = "0033_open_data_and_grants_register"
PREVIOUS = "0032_payment_schedules"


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


def split_charity_numbers(apps, schema_editor):
    """Numbers the ledger used to accept in one field go to the fields the open data reads: a
    subsidiary's suffix (1106046-1) to its own field, a Northern Irish number (NIC100002) to its
    field. Anything else is left as it is; the organisation's page names it as a problem."""
    Organisation = apps.get_model("grants", "Organisation")
    for organisation in Organisation.objects.exclude(charity_number=""):
        number = organisation.charity_number.strip().upper()
        main, dash, suffix = number.partition("-")
        if number.startswith("NIC"):
            organisation.ni_charity_number, organisation.charity_number = number, ""
        elif dash and main.isdigit() and len(main) in (6, 7) and suffix.isdigit() and len(suffix) <= 2:
            organisation.charity_number, organisation.charity_subsidiary_number = main, suffix
        else:
            continue
        organisation.save(update_fields=["charity_number", "charity_subsidiary_number", "ni_charity_number"])


def join_charity_numbers(apps, schema_editor):
    Organisation = apps.get_model("grants", "Organisation")
    for organisation in Organisation.objects.exclude(ni_charity_number="", charity_subsidiary_number=""):
        if organisation.ni_charity_number and not organisation.charity_number:
            organisation.charity_number = organisation.ni_charity_number
        elif organisation.charity_subsidiary_number:
            organisation.charity_number += f"-{organisation.charity_subsidiary_number}"
        organisation.save(update_fields=["charity_number"])


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0032_payment_schedules"),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.CreateModel(
            name="LineRegisterText",
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
                ("purpose", models.TextField(blank=True, validators=[grants.models.not_a_formula])),
                ("conditions", models.TextField(blank=True, validators=[grants.models.not_a_formula])),
                (
                    "crime_reduction",
                    models.TextField(
                        blank=True,
                        validators=[grants.models.not_a_formula],
                        verbose_name="why it reduces crime and disorder",
                    ),
                ),
            ],
            options={
                "verbose_name": "line's register text",
            },
        ),
        migrations.AddField(
            model_name="fund",
            name="data_source_url",
            field=models.URLField(
                blank=True,
                help_text="A web page where the figures come from (e.g. the board report). Blank: the office's own page for open data (LEDGER_DATA_SOURCE_DEFAULT).",
                verbose_name="data source",
            ),
        ),
        migrations.AddField(
            model_name="fund",
            name="is_published",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Show the fund's public page: its grants register and approved grants, without a login.",
                verbose_name="published",
            ),
        ),
        migrations.AddField(
            model_name="fund",
            name="register_conditions",
            field=models.TextField(
                blank=True,
                help_text="The conditions attached to the grants, for every line that does not say otherwise.",
                validators=[grants.models.not_a_formula],
                verbose_name="conditions (register default)",
            ),
        ),
        migrations.AddField(
            model_name="fund",
            name="register_crime_reduction",
            field=models.TextField(
                blank=True,
                help_text="Why the office expects the grants to reduce crime and disorder.",
                validators=[grants.models.not_a_formula],
                verbose_name="why it reduces crime and disorder (register default)",
            ),
        ),
        migrations.AddField(
            model_name="fund",
            name="register_purpose",
            field=models.TextField(
                blank=True,
                help_text="What the grants are for, for every line that does not say otherwise.",
                validators=[grants.models.not_a_formula],
                verbose_name="purpose (register default)",
            ),
        ),
        migrations.AddField(
            model_name="organisation",
            name="charity_subsidiary_number",
            field=models.CharField(
                blank=True,
                help_text="Only for a subsidiary charity: the digits after the dash (the 1 of 1106046-1).",
                max_length=2,
                validators=[
                    django.core.validators.RegexValidator(
                        "^\\d{1,2}$",
                        "A subsidiary number is the 1 or 2 digits after the dash (the 1 of 1106046-1).",
                    )
                ],
            ),
        ),
        migrations.AddField(
            model_name="organisation",
            name="location_code",
            field=models.CharField(
                blank=True,
                help_text="Where known, the ONS code of its local authority district (e.g. E06000001).",
                max_length=9,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[EWSNKL]\\d{8}$",
                        "A location code is an ONS GSS code: a letter for the country then 8 digits (e.g. E06000001 for Hartlepool, W06000015 for Cardiff).",
                    )
                ],
            ),
        ),
        migrations.AddField(
            model_name="organisation",
            name="ni_charity_number",
            field=models.CharField(
                blank=True,
                help_text="NIC and 6 digits, e.g. NIC100002.",
                max_length=9,
                validators=[
                    django.core.validators.RegexValidator(
                        "^NIC\\d{6}$",
                        "A Northern Irish charity number is NIC and 6 digits (e.g. NIC100002), as the Charity Commission for Northern Ireland writes it.",
                    )
                ],
                verbose_name="Northern Ireland charity number",
            ),
        ),
        migrations.AddField(
            model_name="organisation",
            name="postcode",
            field=models.CharField(
                blank=True,
                help_text="The registered address's postcode.",
                max_length=8,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Z]{1,2}\\d[A-Z\\d]? \\d[A-Z]{2}$",
                        "A postcode is written like SW1A 1AA or M1 1AE: the outward code, a space, then a digit and two letters.",
                    )
                ],
            ),
        ),
        migrations.AddField(
            model_name="organisation",
            name="registered_address",
            field=models.TextField(blank=True, help_text="As registered, without the postcode."),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="charity_number",
            field=models.CharField(
                blank=True,
                help_text="The main number: 6 or 7 digits in England and Wales, or SC and 6 digits in Scotland.",
                max_length=20,
                validators=[
                    django.core.validators.RegexValidator(
                        "^(\\d{6,7}|SC\\d{6})$",
                        "A charity number is the main number of 6 or 7 digits for England and Wales (e.g. 1106046), or SC and 6 digits in Scotland (SC012345). Put a subsidiary number (the -1 of 1106046-1) in its own field, and a Northern Irish number (NIC100002) in the Northern Ireland field.",
                    )
                ],
            ),
        ),
        migrations.RunPython(split_charity_numbers, join_charity_numbers),
        migrations.AddConstraint(
            model_name="fund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("register_purpose__startswith", "="),
                    ("register_purpose__startswith", "+"),
                    ("register_purpose__startswith", "-"),
                    ("register_purpose__startswith", "@"),
                    ("register_purpose__startswith", "\t"),
                    ("register_purpose__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="fund_register_purpose_does_not_begin_like_a_formula",
                violation_error_message="A purpose cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="fund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("register_conditions__startswith", "="),
                    ("register_conditions__startswith", "+"),
                    ("register_conditions__startswith", "-"),
                    ("register_conditions__startswith", "@"),
                    ("register_conditions__startswith", "\t"),
                    ("register_conditions__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="fund_register_conditions_does_not_begin_like_a_formula",
                violation_error_message="Conditions cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="fund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("register_crime_reduction__startswith", "="),
                    ("register_crime_reduction__startswith", "+"),
                    ("register_crime_reduction__startswith", "-"),
                    ("register_crime_reduction__startswith", "@"),
                    ("register_crime_reduction__startswith", "\t"),
                    ("register_crime_reduction__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="fund_register_crime_reduction_does_not_begin_like_a_formula",
                violation_error_message="A reason cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="organisation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("charity_subsidiary_number", ""), ("charity_number__gt", ""), _connector="OR"
                ),
                name="organisation_subsidiary_number_comes_with_a_charity_number",
                violation_error_message="A subsidiary number goes with the main number it belongs to.",
            ),
        ),
        migrations.AddField(
            model_name="lineregistertext",
            name="allocation",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="register_text",
                to="grants.allocation",
            ),
        ),
        migrations.AddConstraint(
            model_name="lineregistertext",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("purpose__startswith", "="),
                    ("purpose__startswith", "+"),
                    ("purpose__startswith", "-"),
                    ("purpose__startswith", "@"),
                    ("purpose__startswith", "\t"),
                    ("purpose__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="line_register_purpose_does_not_begin_like_a_formula",
                violation_error_message="A purpose cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="lineregistertext",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("conditions__startswith", "="),
                    ("conditions__startswith", "+"),
                    ("conditions__startswith", "-"),
                    ("conditions__startswith", "@"),
                    ("conditions__startswith", "\t"),
                    ("conditions__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="line_register_conditions_does_not_begin_like_a_formula",
                violation_error_message="Conditions cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="lineregistertext",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("crime_reduction__startswith", "="),
                    ("crime_reduction__startswith", "+"),
                    ("crime_reduction__startswith", "-"),
                    ("crime_reduction__startswith", "@"),
                    ("crime_reduction__startswith", "\t"),
                    ("crime_reduction__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="line_register_crime_reduction_does_not_begin_like_a_formula",
                violation_error_message="A reason cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
