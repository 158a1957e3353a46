"""Stored figures (grants/figures.py): the tables. 0012 installs the triggers that keep them (in a
migration of its own: PostgreSQL's schema editor creates the unique constraints the triggers' upserts
need only at the end of the migration that declares them).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0010_performance_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="FundFigures",
            fields=[
                (
                    "fund",
                    models.OneToOneField(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="grants.fund",
                    ),
                ),
                (
                    "returned_to_funder",
                    models.DecimalField(db_default=0, decimal_places=2, editable=False, max_digits=16),
                ),
                ("pending_entries", models.IntegerField(db_default=0, editable=False)),
            ],
            options={
                "verbose_name": "fund figures",
                "verbose_name_plural": "fund figures",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("pending_entries__gte", 0)),
                        name="fund_figures_counts_are_not_negative",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="GroupFigures",
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
                ("allocations", models.IntegerField(db_default=0, editable=False)),
                ("lines", models.IntegerField(db_default=0, editable=False)),
                ("pending_lines", models.IntegerField(db_default=0, editable=False)),
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
                "verbose_name": "group figures",
                "verbose_name_plural": "group figures",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("fund", "funding_category", "thematic_area"), name="group_figures_are_unique"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("allocations__gte", 0),
                            ("lines__gte", 0),
                            ("pending_entries__gte", 0),
                            ("pending_lines__gte", 0),
                        ),
                        name="group_figures_counts_are_not_negative",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="LineFigures",
            fields=[
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
                (
                    "allocation",
                    models.OneToOneField(
                        editable=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="figures",
                        serialize=False,
                        to="grants.allocation",
                    ),
                ),
                ("line_number", models.PositiveIntegerField(editable=False)),
                ("awarded_entries", models.IntegerField(db_default=0, editable=False)),
                ("pending_awarded_entries", models.IntegerField(db_default=0, editable=False)),
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
                "verbose_name": "line figures",
                "verbose_name_plural": "line figures",
                "indexes": [
                    models.Index(fields=["fund", "awarded", "line_number"], name="line_figures_fund_awarded"),
                    models.Index(
                        fields=["fund", "funding_category", "awarded", "line_number"],
                        name="line_figures_category_awarded",
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("awarded_entries__gte", 0),
                            ("pending_awarded_entries__gte", 0),
                            ("pending_entries__gte", 0),
                        ),
                        name="line_figures_counts_are_not_negative",
                    )
                ],
            },
        ),
    ]
