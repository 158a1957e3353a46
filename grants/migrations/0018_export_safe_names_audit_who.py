"""Names that no export can run as a formula, and an audit trail that says who really did it.

- Organisation, funder, fund, thematic area and funding category names, and lines' services (and
  those a proposed change names), may not begin with =, +, -, @, a tab or a carriage return: CHECK
  constraints, so that every export, the 360Giving CSV among them, can carry names exactly. A
  database that holds such a name is not migrated: the migration stops and lists them, for someone
  to rename (it never changes a name itself).
- Audit events record the database login (`session_user`) and client address of the connection
  that made the change, which a client cannot choose, beside the actor the application names.
- Users, their groups and permissions, groups and their permissions are audited (never a
  password's hash: a change of it is recorded as `password_changed`).
- The triggers (frozen beside this migration, docs/triggers.md) are reinstalled last.
"""

from pathlib import Path

from django.conf import settings
from django.db import migrations, models

import grants.models

HERE = Path(__file__).resolve().parent
NAME = "0018_export_safe_names_audit_who"
PREVIOUS = "0017_versions_everywhere"

# A copy, as this migration was written: what a spreadsheet reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NAMED_COLUMNS = [
    ("Organisation", "name"),
    ("Funder", "name"),
    ("Fund", "name"),
    ("ThematicArea", "name"),
    ("FundingCategory", "name"),
    ("Allocation", "service"),
    ("LineChange", "service"),
    ("LineChange", "was_service"),
]


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


def refuse_formula_like_names(apps, schema_editor):
    """Stop, listing every name a spreadsheet would run as a formula: renaming is a person's decision."""
    found = []
    for model_name, field in NAMED_COLUMNS:
        model = apps.get_model("grants", model_name)
        starts = models.Q()
        for start in FORMULA_STARTS:
            starts |= models.Q(**{f"{field}__startswith": start})
        for pk, value in model.objects.filter(starts).order_by("pk").values_list("pk", field):
            found.append(f"{model._meta.verbose_name} {pk}, {field}: {value!r}")
    if found:
        raise RuntimeError(
            "These names begin with =, +, -, @, a tab or a carriage return, which a spreadsheet runs as "
            "a formula, and names may no longer do so. Rename them (in the admin, on the current "
            "version), then migrate again:\n" + "\n".join(found)
        )


def nothing_to_undo(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("grants", PREVIOUS),
        # The auth tables' triggers name their columns as auth's migrations leave them.
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.RunPython(refuse_formula_like_names, nothing_to_undo),
        migrations.AddField(
            model_name="auditevent",
            name="client_address",
            field=models.GenericIPAddressField(
                editable=False,
                help_text="The address the database connection came from; empty over a local socket, and on SQLite.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="db_session_user",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="The database user the connection logged in as (PostgreSQL's session_user), which SET ROLE does not change.",
                max_length=63,
                verbose_name="database login",
            ),
        ),
        migrations.AlterField(
            model_name="allocation",
            name="service",
            field=models.CharField(
                blank=True,
                help_text='Optional, e.g. "Sexual Violence Service".',
                max_length=200,
                validators=[grants.models.not_a_formula],
            ),
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
        migrations.AlterField(
            model_name="fund",
            name="name",
            field=models.CharField(max_length=300, validators=[grants.models.not_a_formula]),
        ),
        migrations.AlterField(
            model_name="funder",
            name="name",
            field=models.CharField(max_length=200, unique=True, validators=[grants.models.not_a_formula]),
        ),
        migrations.AlterField(
            model_name="fundingcategory",
            name="name",
            field=models.CharField(max_length=100, unique=True, validators=[grants.models.not_a_formula]),
        ),
        migrations.AlterField(
            model_name="linechange",
            name="service",
            field=models.CharField(blank=True, max_length=200, validators=[grants.models.not_a_formula]),
        ),
        migrations.AlterField(
            model_name="linechange",
            name="was_service",
            field=models.CharField(blank=True, max_length=200, validators=[grants.models.not_a_formula]),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="name",
            field=models.CharField(max_length=300, validators=[grants.models.not_a_formula]),
        ),
        migrations.AlterField(
            model_name="thematicarea",
            name="name",
            field=models.CharField(max_length=100, unique=True, validators=[grants.models.not_a_formula]),
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("service__startswith", "="),
                    ("service__startswith", "+"),
                    ("service__startswith", "-"),
                    ("service__startswith", "@"),
                    ("service__startswith", "\t"),
                    ("service__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="allocation_service_does_not_begin_like_a_formula",
                violation_error_message="A service cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="fund",
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
                name="fund_name_does_not_begin_like_a_formula",
                violation_error_message="A fund's name cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="funder",
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
                name="funder_name_does_not_begin_like_a_formula",
                violation_error_message="A funder's name cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="fundingcategory",
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
                name="fundingcategory_name_does_not_begin_like_a_formula",
                violation_error_message="A name cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="linechange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("service__startswith", "="),
                    ("service__startswith", "+"),
                    ("service__startswith", "-"),
                    ("service__startswith", "@"),
                    ("service__startswith", "\t"),
                    ("service__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="line_change_service_does_not_begin_like_a_formula",
                violation_error_message="A service cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="linechange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("was_service__startswith", "="),
                    ("was_service__startswith", "+"),
                    ("was_service__startswith", "-"),
                    ("was_service__startswith", "@"),
                    ("was_service__startswith", "\t"),
                    ("was_service__startswith", "\r"),
                    _connector="OR",
                    _negated=True,
                ),
                name="line_change_was_service_does_not_begin_like_a_formula",
                violation_error_message="A service cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="organisation",
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
                name="organisation_name_does_not_begin_like_a_formula",
                violation_error_message="An organisation's name cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.AddConstraint(
            model_name="thematicarea",
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
                name="thematicarea_name_does_not_begin_like_a_formula",
                violation_error_message="A name cannot begin with =, +, -, @, a tab or a carriage return: a spreadsheet opening an export would run it as a formula. Remove or reword the first character.",
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
