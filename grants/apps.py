from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GrantsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "grants"
    verbose_name = "Grant ledger"

    def ready(self):
        from grants import checks  # noqa: F401  (registers the system checks)
        from grants.roles import sync_roles_after_migrate

        # Keeps the roles' groups exact after every migrate and after the test runner's flush.
        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="grants.sync_roles")
