"""Carrying forward between financial years: the kind `carried_forward`, a carry-forward's in leg
pointing at its out leg (`carried_from`), the CHECK constraints on the pair's shape, and the
triggers that match an in leg to its out leg and decide the pair together (grants/triggers.py).

SQLite remakes the entries' table to add the column, dropping its triggers; so this migration drops
every trigger first and installs those frozen beside it last (docs/triggers.md).
"""

from pathlib import Path


import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


HERE = Path(__file__).resolve().parent
NAME = "0024_carry_forward_pairs"
PREVIOUS = "0023_submitted_fund_frozen_in_the_database"


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
        ("grants", "0023_submitted_fund_frozen_in_the_database"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_entry_kind_is_a_known_kind",
        ),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_entry_is_on_an_allocation_unless_returned_to_funder",
        ),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_entry_is_positive_unless_a_reversal_or_variation",
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="carried_from",
            field=models.OneToOneField(
                blank=True,
                help_text="On a carry-forward's in leg (1 April of the next year): its out leg (31 March).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="carried_to",
                to="grants.ledgerentry",
            ),
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
                    ("carried_forward", "Carried forward"),
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
                        [
                            "award",
                            "variation",
                            "payment",
                            "underspend_returned",
                            "returned_to_funder",
                            "carried_forward",
                        ],
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
                    ("kind", "carried_forward"),
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
                    ("kind__in", ["variation", "carried_forward"]),
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
                    models.Q(("kind", "carried_forward"), _negated=True),
                    models.Q(("amount__lt", 0), ("carried_from__isnull", True), ("reverses__isnull", True)),
                    models.Q(("amount__gt", 0), ("carried_from__isnull", False), ("reverses__isnull", True)),
                    _connector="OR",
                ),
                name="ledger_entry_carry_forward_is_an_out_leg_or_an_in_leg",
                violation_error_message="A carry-forward is an out leg (a negative amount) or an in leg (a positive amount, carried from its out leg); it is never reversed.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("carried_from__isnull", True), ("kind", "carried_forward"), _connector="OR"
                ),
                name="ledger_entry_only_a_carry_forward_is_carried_from_another",
                violation_error_message="Only a carry-forward's in leg is carried from another entry.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "carried_forward"), _negated=True),
                    models.Q(("reference", ""), _negated=True),
                    _connector="OR",
                ),
                name="ledger_entry_carry_forward_has_the_funders_agreement",
                violation_error_message="Give the reference of the funder's agreement to carry forward.",
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
