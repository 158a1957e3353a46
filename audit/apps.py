from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        # Registers the SQLite functions the triggers call, and the data load's mark on raw saves.
        from audit import context  # noqa: F401
