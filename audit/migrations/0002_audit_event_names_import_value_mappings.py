"""The audit trail records the grants app's import value mappings (grants 0021, whose frozen triggers
write their events): their table joins the events' `table_name` choices.

In Django's state only: choices are not a column's definition, and an `AlterField` of
`grants_auditevent` must not remake it on SQLite (docs/triggers.md), so nothing reaches the database.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("grants", "0021_lines_unique_by_area_and_category_import_value_mappings"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
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
                            ("grants_importvaluemapping", "Import value mapping"),
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
            ],
            database_operations=[],
        ),
    ]
