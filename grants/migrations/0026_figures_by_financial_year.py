"""Stored figures by financial year (issue 16): each line's money per financial year
(`LineYearFigures`) and each group's, per fund, year, funding category and thematic area
(`GroupYearFigures`), kept by the figures' triggers as the other stored figures are, so that a fund's
reconciliation by year, its page and the dashboard for one year read a handful of rows.

Drops every trigger first and installs those frozen beside it last (docs/triggers.md); the frozen
files end with the statements that compute the new tables from the entries already recorded.
"""

from pathlib import Path

import django.db.models.deletion
from django.db import migrations, models


HERE = Path(__file__).resolve().parent
NAME = "0026_figures_by_financial_year"
PREVIOUS = "0025_funder_receipts_and_underspend_due"


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


def create_constraints_now(apps, schema_editor):
    """The new tables' unique constraints, which the figures' upserts name, created before the
    triggers are installed and the figures computed: PostgreSQL's schema editor otherwise leaves
    them to the end of the migration."""
    while schema_editor.deferred_sql:
        schema_editor.execute(schema_editor.deferred_sql.pop(0))


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0025_funder_receipts_and_underspend_due"),
    ]

    operations = [
        migrations.RunPython(drop_all_triggers, install(PREVIOUS)),
        migrations.CreateModel(
            name="GroupYearFigures",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "awarded",
                    models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16),
                ),
                (
                    "awarded_pending",
                    models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16),
                ),
                ("paid", models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16)),
                (
                    "returned",
                    models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16),
                ),
                ("pending_entries", models.IntegerField(db_default=0, editable=False)),
                ("year", models.PositiveSmallIntegerField(editable=False)),
                (
                    "paid_pending",
                    models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16),
                ),
                (
                    "returned_pending",
                    models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16),
                ),
                ("awarded_entries", models.IntegerField(db_default=0, editable=False)),
                ("pending_awarded_entries", models.IntegerField(db_default=0, editable=False)),
                ("line_count", models.IntegerField(db_default=0, editable=False)),
                ("awarded_line_count", models.IntegerField(db_default=0, editable=False)),
                ("pending_line_count", models.IntegerField(db_default=0, editable=False)),
                ("recorded_line_count", models.IntegerField(db_default=0, editable=False)),
                (
                    "fund",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="grants.fund",
                    ),
                ),
                (
                    "funding_category",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="grants.fundingcategory",
                    ),
                ),
                (
                    "thematic_area",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="grants.thematicarea",
                    ),
                ),
            ],
            options={
                "verbose_name": "group figures by year",
                "verbose_name_plural": "group figures by year",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("fund", "year", "funding_category", "thematic_area"),
                        name="group_year_figures_are_unique",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("awarded_entries__gte", 0),
                            ("awarded_line_count__gte", 0),
                            ("line_count__gte", 0),
                            ("pending_awarded_entries__gte", 0),
                            ("pending_entries__gte", 0),
                            ("pending_line_count__gte", 0),
                            ("recorded_line_count__gte", 0),
                        ),
                        name="group_year_figures_counts_are_not_negative",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="LineYearFigures",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "awarded",
                    models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16),
                ),
                (
                    "awarded_pending",
                    models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16),
                ),
                ("paid", models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16)),
                (
                    "returned",
                    models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16),
                ),
                ("pending_entries", models.IntegerField(db_default=0, editable=False)),
                ("year", models.PositiveSmallIntegerField(editable=False)),
                (
                    "paid_pending",
                    models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16),
                ),
                (
                    "returned_pending",
                    models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16),
                ),
                ("awarded_entries", models.IntegerField(db_default=0, editable=False)),
                ("pending_awarded_entries", models.IntegerField(db_default=0, editable=False)),
                (
                    "allocation",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="year_figures",
                        to="grants.allocation",
                    ),
                ),
                (
                    "fund",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="grants.fund",
                    ),
                ),
                (
                    "funding_category",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="grants.fundingcategory",
                    ),
                ),
                (
                    "thematic_area",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="grants.thematicarea",
                    ),
                ),
            ],
            options={
                "verbose_name": "line figures by year",
                "verbose_name_plural": "line figures by year",
                "indexes": [
                    models.Index(fields=["fund", "year", "awarded"], name="line_year_figures_fund_awarded")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("allocation", "year"), name="line_year_figures_are_unique"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("awarded_entries__gte", 0),
                            ("pending_awarded_entries__gte", 0),
                            ("pending_entries__gte", 0),
                        ),
                        name="line_year_figures_counts_are_not_negative",
                    ),
                ],
            },
        ),
        migrations.RunPython(create_constraints_now, migrations.RunPython.noop),
        migrations.RunPython(install(NAME), drop_all_triggers),
    ]
