"""Money from the funder and underspend due from providers: two kinds of ledger entry.

`received_from_funder` is held on the fund (no line) and carries the funder's remittance
reference; `underspend_due` is on a line. The constraints on kinds, on which kinds are held on the
fund and on references name them; two indexes read a fund's own entries and its underspend without
reading its payments.

SQLite remakes the entries' table to change its constraints, dropping its guard, audit and figures
triggers, which name its columns; so this migration drops every trigger first and installs those
frozen beside it last (docs/triggers.md).
"""

from pathlib import Path

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


HERE = Path(__file__).resolve().parent
NAME = "0025_funder_receipts_and_underspend_due"
PREVIOUS = "0024_carry_forward_pairs"


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
        ("grants", "0024_carry_forward_pairs"),
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
            name="ledger_entry_money_movement_has_a_reference",
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="allocation",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty only for money between the office and the funder (received or returned).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="grants.allocation",
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
                    ("received_from_funder", "Received from funder"),
                    ("underspend_due", "Underspend due from provider"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                condition=models.Q(("allocation__isnull", True)),
                fields=["fund", "effective_date"],
                include=("kind", "amount", "approved_at", "rejected_at"),
                name="entry_fund_level_by_date",
            ),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                fields=["fund", "kind", "allocation"],
                include=("amount", "approved_at", "rejected_at"),
                name="entry_fund_kind_line",
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
                            "received_from_funder",
                            "underspend_due",
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
                    models.Q(
                        ("allocation__isnull", True),
                        ("kind__in", ["returned_to_funder", "received_from_funder"]),
                    ),
                    models.Q(
                        models.Q(("kind__in", ["returned_to_funder", "received_from_funder"]), _negated=True),
                        ("allocation__isnull", False),
                    ),
                    ("kind", "carried_forward"),
                    _connector="OR",
                ),
                name="ledger_entry_is_on_an_allocation_unless_returned_to_funder",
                violation_error_message="Only money received from or returned to the funder, and a carry-forward of "
                "the control total, are recorded against the fund itself.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "kind__in",
                            ["payment", "underspend_returned", "returned_to_funder", "received_from_funder"],
                        ),
                        _negated=True,
                    ),
                    models.Q(("reference", ""), _negated=True),
                    _connector="OR",
                ),
                name="ledger_entry_money_movement_has_a_reference",
                violation_error_message="Give the payment or remittance reference.",
            ),
        ),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
