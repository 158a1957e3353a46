"""What each fund's imports learnt, in the admin: how an office's table text maps to a funding
category or thematic area. Imports write these rows; here they are read, and a wrong one deleted
(through the services) so that the next import asks again."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.http import HttpResponseRedirect
from django.urls import reverse

from grants import services
from grants.admin._base import ServiceAdmin, locked_fund_message
from grants.models import ImportValueMapping


@admin.register(ImportValueMapping)
class ImportValueMappingAdmin(ServiceAdmin):
    list_display = ["fund", "text", "maps_to", "mapped_by", "mapped_at"]
    list_filter = ["fund"]
    search_fields = ["text", "fund__code"]
    list_select_related = ["fund", "funding_category", "thematic_area", "mapped_by"]
    fields = ["fund", "text", "maps_to", "mapped_by", "mapped_at"]
    readonly_fields = fields

    @admin.display(description="Maps to")
    def maps_to(self, obj):
        meanings = []
        if obj.thematic_area_id is not None:
            meanings.append(f"Thematic area: {obj.thematic_area}")
        if obj.funding_category_id is not None:
            meanings.append(f"Funding category: {obj.funding_category}")
        return "; ".join(meanings)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_refusal(self, objects) -> str | None:
        return next(filter(None, (locked_fund_message(mapping.fund_id) for mapping in objects)), None)

    def delete_model(self, request, obj):
        services.import_value_mappings_delete(mappings=[obj], acting_user=request.user)

    def delete_queryset(self, request, queryset):
        services.import_value_mappings_delete(mappings=list(queryset), acting_user=request.user)

    def response_delete(self, request, obj_display, obj_id):
        # Django sends whoever may not change rows to the admin's index; these rows are only ever
        # viewed and deleted, so back to their list, as after deleting any other row.
        response = super().response_delete(request, obj_display, obj_id)
        if isinstance(response, HttpResponseRedirect) and self.has_view_permission(request):
            changelist = reverse(
                "admin:grants_importvaluemapping_changelist", current_app=self.admin_site.name
            )
            context = {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}
            return HttpResponseRedirect(add_preserved_filters(context, changelist))
        return response
