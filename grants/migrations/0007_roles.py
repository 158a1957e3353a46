"""The three roles, as groups with permissions: Viewer, Finance officer and Approver.

The roles as they stood when this migration was written are frozen below (it once imported them from
grants/roles.py, which lists them as they are today and re-applies them after every migrate; a
migration that imports live code changes with it, so this copy replaced the import, changing
nothing for a database that had already run it).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [
    f"view_{model}"
    for model in [
        "funder",
        "fund",
        "controltotalrevision",
        "categorybudget",
        "organisation",
        "thematicarea",
        "fundingcategory",
        "allocation",
        "ledgerentry",
        "returnsubmission",
    ]
]
ROLES = {
    "Viewer": VIEW,
    "Finance officer": VIEW
    + [
        "add_funder",
        "change_funder",
        "add_fund",
        "change_fund",
        "add_categorybudget",
        "change_categorybudget",
        "add_controltotalrevision",
        "add_organisation",
        "change_organisation",
        "add_allocation",
        "change_allocation",
        "add_ledgerentry",
    ],
    "Approver": VIEW + ["approve_ledgerentry", "add_returnsubmission", "reopen_returnsubmission"],
}


def create_roles(apps, schema_editor):
    # Permissions are otherwise created after all migrations have run; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="grants", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for the {name} role: {sorted(missing)}")
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0006_ledger_payments_approvals_submissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
