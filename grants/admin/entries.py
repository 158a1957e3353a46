"""Read-only records in the admin: ledger entries (with their approval action), submitted returns,
control-total revisions and imports."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from grants import services
from grants.admin._base import ReadOnlyAdmin, gbp_column, revision_of_column
from grants.models import (
    ControlTotalRevision,
    ImportRecord,
    LedgerEntry,
    ReturnSubmission,
)
from grants.years import in_words


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    # Millions of entries: count the filtered ones only, not the whole table again.
    show_full_result_count = False
    list_display = [
        "recorded_at",
        "fund",
        "allocation",
        "kind",
        "amount_display",
        "effective_date",
        "reference",
        "recorded_by",
        "approval",
        "memo",
    ]
    list_filter = ["kind", ("approved_at", admin.EmptyFieldListFilter), "fund", "effective_date"]
    search_fields = ["memo", "reference", "allocation__organisation__name", "allocation__service"]
    list_select_related = [
        "fund",
        "allocation__fund",
        "allocation__organisation",
        "recorded_by",
        "approved_by",
    ]
    date_hierarchy = "recorded_at"
    amount_display = gbp_column("amount", "Amount")
    actions = ["approve_entries"]

    @admin.display(description="Approval", ordering="approved_at")
    def approval(self, obj):
        if obj.approved_at is None:
            return "Awaiting approval"
        if obj.approved_outside_ledger:
            return "Approved in its source document, before it reached the ledger"
        return f"Approved {in_words(timezone.localtime(obj.approved_at))}" + (
            f" by {obj.approved_by}" if obj.approved_by else ""
        )

    def has_approve_permission(self, request):
        return request.user.has_perm("grants.approve_ledgerentry")

    @admin.action(description="Approve the selected entries", permissions=["approve"])
    def approve_entries(self, request, queryset):
        """First a page listing what would be approved, to confirm; then all of them through
        `services.decisions_take`, as the Approvals page does, so four-eyes and the locks hold here
        too. All or nothing: one refusal approves none of them."""
        entries = list(
            queryset.select_related(
                "fund", "allocation", "recorded_by", "carried_from", "carried_to"
            ).order_by("pk")
        )
        if request.POST.get("post") != "yes":
            # A carry-forward is approved as a pair whichever leg is ticked: the page names the other
            # leg too, so it lists all that "Yes" would approve.
            for entry in entries:
                entry.pair = (
                    (entry.carried_from or getattr(entry, "carried_to", None))
                    if entry.kind == LedgerEntry.Kind.CARRIED_FORWARD
                    else None
                )
            return TemplateResponse(
                request,
                "admin/grants/ledgerentry/approve_selected_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Approve these entries?",
                    "opts": self.opts,
                    "entries": entries,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        try:
            services.decisions_take(
                decision=services.Decision.APPROVE, acting_user=request.user, entries=entries
            )
        except services.RowsRefused as refused:
            reasons = " ".join(
                f"{entries[index]}: {' '.join(error.messages)}" for index, error in refused.rows.items()
            )
            self.message_user(request, f"Nothing was approved. {reasons}", messages.ERROR)
            return None
        except ValidationError as error:
            self.message_user(request, f"Nothing was approved. {' '.join(error.messages)}", messages.ERROR)
            return None
        self.message_user(request, f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} approved.")
        return None


@admin.register(ReturnSubmission)
class ReturnSubmissionAdmin(ReadOnlyAdmin):
    """Submitted returns, read-only: submitting and reopening happen on the fund's page."""

    list_display = ["fund", "version", "submitted_at", "submitted_by", "sha256", "reopened_at", "download"]
    list_filter = ["fund"]
    list_select_related = ["fund", "submitted_by"]
    exclude = ["workbook"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("workbook")

    @admin.display(description="Workbook")
    def download(self, obj):
        url = reverse("grants:submission_download", args=[obj.fund.code, obj.version])
        return format_html('<a href="{}">{}</a>', url, obj.file_name)


@admin.register(ControlTotalRevision)
class ControlTotalRevisionAdmin(ReadOnlyAdmin):
    list_display = [
        "recorded_at",
        "fund",
        "year_display",
        "previous_display",
        "new_display",
        "recorded_by",
        "memo",
    ]
    list_filter = ["fund"]
    search_fields = ["memo", "fund__code", "fund__name"]
    list_select_related = ["fund", "recorded_by"]
    year_display = revision_of_column()
    previous_display = gbp_column("previous_amount", "From")
    new_display = gbp_column("new_amount", "To")


@admin.register(ImportRecord)
class ImportRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "imported_at",
        "fund",
        "file_name",
        "imported_by",
        "lines_added",
        "amounts_changed",
        "lines_unchanged",
        "organisations_created",
        "sha256",
    ]
    list_filter = ["fund"]
    search_fields = ["file_name", "sha256", "fund__code"]
    list_select_related = ["fund", "imported_by"]
    date_hierarchy = "imported_at"
