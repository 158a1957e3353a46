from django.apps import AppConfig


class GrantsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "grants"
    verbose_name = "Grant ledger"

    def ready(self):
        from grants import checks  # noqa: F401  (registers the system checks)
