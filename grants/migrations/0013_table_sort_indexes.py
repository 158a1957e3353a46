"""Indexes for the all-allocations table's first page in its default order and sorted by amount,
found with EXPLAIN on a 1,000,000-line ledger (docs/performance.md). CREATE INDEX only: no table is
remade, so the audit and figures triggers stay."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0012_figures_triggers"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="allocation",
            index=models.Index(fields=["line_number"], name="allocation_line_number"),
        ),
        migrations.AddIndex(
            model_name="linefigures",
            index=models.Index(fields=["awarded"], name="line_figures_awarded"),
        ),
    ]
