"""Indexes the benchmark's query plans asked for (docs/performance.md).

Numbered 0009 beside the audit trail's 0008; the two are independent and the chain is joined at merge.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0009_import_record"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="allocation",
            index=models.Index(fields=["fund", "funding_category"], name="allocation_fund_category"),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                fields=["allocation", "kind", "approved_at"],
                include=("amount",),
                name="entry_line_kind_approval",
            ),
        ),
    ]
