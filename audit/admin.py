"""The audit trail in the admin: a read-only list of events, and every audited model's "History".

Nobody can add, change or delete an audit event here (the database refuses it too). The "History"
button on an audited object's page opens this list filtered to that row, in place of the admin's
own log, which only sees changes made through the admin.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from audit.models import AuditEvent
from audit.tables import AUDITED_TABLES
from grants.admin._base import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "table_name",
        "row_id",
        "action",
        "actor_username",
        "reason",
        "db_session_user",
        "client_address",
    ]
    list_filter = ["table_name", "action", "db_session_user"]
    search_fields = ["reason", "actor_username", "db_session_user"]
    date_hierarchy = "occurred_at"
    fields = [
        "occurred_at",
        "table_name",
        "row_id",
        "action",
        "fund_id",
        "allocation_id",
        "actor_id",
        "actor_username",
        "db_user",
        "db_session_user",
        "client_address",
        "reason",
        "before",
        "after",
    ]
    readonly_fields = fields


class AuditHistoryMixin:
    """Send an object's "History" to its audit events."""

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        query = urlencode({"table_name": self.opts.db_table, "row_id": obj.pk})
        return redirect(
            f"{reverse('admin:audit_auditevent_changelist', current_app=self.admin_site.name)}?{query}"
        )


def link_history_to_audit_trail(site: admin.AdminSite) -> None:
    """Re-register every audited model's admin with `AuditHistoryMixin` in front of it."""
    for model, model_admin in list(site._registry.items()):
        if model._meta.db_table not in AUDITED_TABLES or isinstance(model_admin, AuditHistoryMixin):
            continue
        admin_class = type(model_admin)
        site.unregister(model)
        site.register(model, type(admin_class.__name__, (AuditHistoryMixin, admin_class), {}))
