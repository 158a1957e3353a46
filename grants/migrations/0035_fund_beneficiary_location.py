"""A fund's own beneficiary location (issue 19): name, ONS code and geography type, blank meaning
the office's police force area from settings.

Adding columns makes SQLite rebuild grants_fund and drop its triggers, and the audit triggers name
the table's columns, so it drops every trigger first and installs those frozen beside it last
(docs/triggers.md), as 0033 does.
"""

from pathlib import Path

import django.core.validators
import django.db.models.functions.text
import django.db.models.lookups
import grants.models
from django.db import migrations, models


HERE = Path(__file__).resolve().parent
NAME = "0035_fund_beneficiary_location"
PREVIOUS = "0034_instalment_settled_is_kept"


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
        ("grants", "0034_instalment_settled_is_kept"),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.AddField(
            model_name="fund",
            name="beneficiary_location_code",
            field=models.CharField(
                blank=True,
                help_text="Its ONS GSS code, e.g. E08000026 for Coventry.",
                max_length=9,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[EWSNKL]\\d{8}$",
                        "A location code is an ONS GSS code: a letter for the country then 8 digits (e.g. E06000001 for Hartlepool, W06000015 for Cardiff).",
                    )
                ],
                verbose_name="beneficiary location code",
            ),
        ),
        migrations.AddField(
            model_name="fund",
            name="beneficiary_location_code_type",
            field=models.CharField(
                blank=True,
                help_text="The kind of area the code names, e.g. LAD for a local authority district, PFA for a police force area.",
                max_length=10,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Z][A-Z0-9]{1,9}$",
                        "A geography type is a short code in capitals, such as LAD (local authority district), PFA (police force area) or WD (ward).",
                    )
                ],
                verbose_name="beneficiary location geography type",
            ),
        ),
        migrations.AddField(
            model_name="fund",
            name="beneficiary_location_name",
            field=models.CharField(
                blank=True,
                help_text="Where the fund's beneficiaries are, e.g. Coventry. Blank: the office's police force area.",
                max_length=200,
                validators=[grants.models.not_a_formula],
                verbose_name="beneficiary location",
            ),
        ),
        migrations.AddConstraint(
            model_name="fund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("beneficiary_location_name__startswith", "="),
                    ("beneficiary_location_name__startswith", "+"),
                    ("beneficiary_location_name__startswith", "-"),
                    ("beneficiary_location_name__startswith", "@"),
                    ("beneficiary_location_name__startswith", "\t"),
                    ("beneficiary_location_name__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="fund_beneficiary_location_name_does_not_begin_like_a_formula",
                violation_error_message="A beneficiary location cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="fund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        django.db.models.lookups.Exact(
                            django.db.models.functions.text.Length("beneficiary_location_code"), 0
                        ),
                        django.db.models.lookups.Exact(
                            django.db.models.functions.text.Length("beneficiary_location_code_type"), 0
                        ),
                    ),
                    models.Q(
                        django.db.models.lookups.GreaterThan(
                            django.db.models.functions.text.Length("beneficiary_location_name"), 0
                        ),
                        django.db.models.lookups.GreaterThan(
                            django.db.models.functions.text.Length("beneficiary_location_code"), 0
                        ),
                        django.db.models.lookups.GreaterThan(
                            django.db.models.functions.text.Length("beneficiary_location_code_type"), 0
                        ),
                    ),
                    _connector="OR",
                ),
                name="fund_beneficiary_location_code_comes_with_its_name_and_type",
                violation_error_message="A beneficiary location's code needs its name and its geography type, and a geography type its code: give all three, a name alone, or leave all three blank for the office's police force area.",
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
