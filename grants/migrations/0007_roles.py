"""The three roles, as groups with permissions: Viewer, Finance officer and Approver.

The roles are listed once, in grants/roles.py, which also re-applies them after every migrate.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from grants.roles import ROLES, sync_roles


def create_roles(apps, schema_editor):
    # Permissions are otherwise created after all migrations have run; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0006_ledger_payments_approvals_submissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
