"""Organisations and the reference data (thematic areas, funding categories) in the admin."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from grants import services
from grants.admin._base import ServiceAdmin, VersionedForm
from grants.models import (
    FundingCategory,
    Organisation,
    ThematicArea,
)


@admin.register(Organisation)
class OrganisationAdmin(ServiceAdmin):
    form = VersionedForm
    list_display = ["name", "short_name", "charity_number", "company_number", "org_identifier", "line_count"]
    search_fields = ["name", "short_name", "charity_number", "company_number", "org_identifier", "postcode"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=Count("allocations"))

    @admin.display(description="Allocation lines", ordering="line_count")
    def line_count(self, obj):
        return obj.line_count

    def save_model(self, request, obj, form, change):
        if change:
            if form.has_changed():
                services.organisation_update(
                    organisation=obj, acting_user=request.user, expected_version=form.opened_at()
                )
            return
        fields = [
            "name",
            "short_name",
            "charity_number",
            "company_number",
            "org_identifier",
            "contact_email",
            *services.OPEN_DATA_FIELDS,
            "notes",
        ]
        organisation = services.organisation_create(
            acting_user=request.user, **{field: getattr(obj, field) for field in fields}
        )
        # organisation_create() builds its own instance; the admin goes on to log and redirect with obj.
        obj.pk = organisation.pk
        obj._state.adding = False


@admin.register(ThematicArea, FundingCategory)
class ReferenceDataAdmin(ServiceAdmin):
    # No list_editable: a changelist row cannot carry the version it was opened at, so the order is
    # changed in each one's change form, which can.
    form = VersionedForm
    list_display = ["name", "code", "sort_order"]
    search_fields = ["name", "code"]

    def save_model(self, request, obj, form, change):
        if change and not form.has_changed():
            return
        services.reference_data_save(item=obj, acting_user=request.user, expected_version=form.opened_at())
