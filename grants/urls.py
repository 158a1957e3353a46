from django.urls import path

from audit import views as history_views
from grants import services
from grants.models import LineChange
from grants.views import (
    allocations,
    approvals,
    entries,
    fund_edit,
    funds,
    imports,
    organisations,
    pages,
    publication,
    returns,
    schedules,
)

app_name = "grants"

urlpatterns = [
    path("", funds.DashboardView.as_view(), name="dashboard"),
    path("funds/", funds.FundListView.as_view(), name="fund_list"),
    path("accessibility/", pages.AccessibilityStatementView.as_view(), name="accessibility"),
    # Before the fund's page: "add" is not a fund's code (grants/forms/funds.py refuses it).
    path("funds/add/", fund_edit.FundCreateView.as_view(), name="fund_add"),
    path("funds/<slug:code>/", funds.FundDetailView.as_view(), name="fund_detail"),
    path("funds/<slug:code>/edit/", fund_edit.FundEditView.as_view(), name="fund_edit"),
    path("funds/<slug:code>/budgets/", fund_edit.FundBudgetsView.as_view(), name="fund_budgets"),
    path("funds/<slug:code>/years/", funds.FundYearsView.as_view(), name="fund_years"),
    path(
        "funds/<slug:code>/allocations/add/",
        allocations.AllocationCreateView.as_view(),
        name="allocation_add",
    ),
    path("funds/<slug:code>/import/", imports.FundImportView.as_view(), name="fund_import"),
    path(
        "funds/<slug:code>/import/<uuid:token>/",
        imports.FundImportPreviewView.as_view(),
        name="fund_import_preview",
    ),
    path("funds/<slug:code>/moj-return.xlsx", funds.FundMojReturnView.as_view(), name="fund_moj_return"),
    path(
        "funds/<slug:code>/360giving.<str:file_format>",
        funds.FundThreeSixtyGivingView.as_view(),
        name="fund_360giving",
    ),
    path("funds/<slug:code>/register/", publication.FundRegisterView.as_view(), name="fund_register"),
    path(
        "funds/<slug:code>/register.<str:file_format>",
        publication.FundRegisterDownloadView.as_view(),
        name="fund_register_download",
    ),
    path(
        "funds/<slug:code>/publication/", publication.FundPublicationView.as_view(), name="fund_publication"
    ),
    path(
        "allocations/<int:pk>/register/",
        publication.LineRegisterTextView.as_view(),
        name="line_register_text",
    ),
    path("public/funds/<slug:code>/", publication.PublicFundView.as_view(), name="public_fund"),
    path("allocations/", allocations.AllocationListView.as_view(), name="allocation_list"),
    path(
        "allocations/<int:pk>/amount/",
        allocations.AllocationChangeAmountView.as_view(),
        name="allocation_change_amount",
    ),
    path("organisations/", organisations.OrganisationListView.as_view(), name="organisation_list"),
    path("organisations/add/", organisations.OrganisationCreateView.as_view(), name="organisation_add"),
    path(
        "organisations/<int:pk>/", organisations.OrganisationDetailView.as_view(), name="organisation_detail"
    ),
    path(
        "organisations/<int:pk>/edit/", organisations.OrganisationEditView.as_view(), name="organisation_edit"
    ),
]

urlpatterns += [
    path("allocations/<int:pk>/", allocations.AllocationDetailView.as_view(), name="allocation_detail"),
    path("allocations/<int:pk>/edit/", allocations.AllocationEditView.as_view(), name="allocation_edit"),
    path("allocations/<int:pk>/schedule/", schedules.ScheduleView.as_view(), name="schedule"),
    path(
        "allocations/<int:pk>/schedule/add/", schedules.InstalmentCreateView.as_view(), name="instalment_add"
    ),
    path("instalments/<int:pk>/edit/", schedules.InstalmentUpdateView.as_view(), name="instalment_edit"),
    path("instalments/<int:pk>/delete/", schedules.InstalmentDeleteView.as_view(), name="instalment_delete"),
    path("allocations/<int:pk>/payments/add/", entries.PaymentCreateView.as_view(), name="payment_add"),
    path(
        "allocations/<int:pk>/underspend/add/", entries.UnderspendCreateView.as_view(), name="underspend_add"
    ),
    path(
        "allocations/<int:pk>/underspend-due/add/",
        entries.UnderspendDueCreateView.as_view(),
        name="underspend_due_add",
    ),
    path(
        "funds/<slug:code>/received/add/",
        entries.FunderReceiptCreateView.as_view(),
        name="funder_receipt_add",
    ),
    path(
        "funds/<slug:code>/returned/add/", entries.FunderReturnCreateView.as_view(), name="funder_return_add"
    ),
    path(
        "allocations/<int:pk>/carry-forward/",
        entries.LineCarryForwardView.as_view(),
        name="line_carry_forward",
    ),
    path(
        "funds/<slug:code>/carry-forward/", entries.FundCarryForwardView.as_view(), name="fund_carry_forward"
    ),
    path("entries/<int:pk>/reverse/", entries.EntryReverseView.as_view(), name="entry_reverse"),
    path("entries/<int:pk>/approve/", entries.DecisionView.as_view(), name="entry_approve"),
    path(
        "entries/<int:pk>/reject/",
        entries.DecisionView.as_view(decision=services.Decision.REJECT),
        name="entry_reject",
    ),
    path(
        "entries/<int:pk>/withdraw/",
        entries.DecisionView.as_view(decision=services.Decision.WITHDRAW),
        name="entry_withdraw",
    ),
    path(
        "line-changes/<int:pk>/approve/",
        entries.DecisionView.as_view(model=LineChange),
        name="line_change_approve",
    ),
    path(
        "line-changes/<int:pk>/reject/",
        entries.DecisionView.as_view(model=LineChange, decision=services.Decision.REJECT),
        name="line_change_reject",
    ),
    path(
        "line-changes/<int:pk>/withdraw/",
        entries.DecisionView.as_view(model=LineChange, decision=services.Decision.WITHDRAW),
        name="line_change_withdraw",
    ),
    path("approvals/", approvals.ApprovalListView.as_view(), name="approval_list"),
    path("funds/<slug:code>/submit/", funds.FundSubmitView.as_view(), name="fund_submit"),
    path("funds/<slug:code>/reopen/", funds.FundReopenView.as_view(), name="fund_reopen"),
    path("funds/<slug:code>/profile/", funds.FundProfileView.as_view(), name="fund_profile"),
    path(
        "funds/<slug:code>/submissions/<int:version>.xlsx",
        funds.SubmissionDownloadView.as_view(),
        name="submission_download",
    ),
]

# Provider returns (issue 17).
urlpatterns += [
    path("funds/<slug:code>/returns/", returns.FundReturnsView.as_view(), name="fund_returns"),
    path(
        "funds/<slug:code>/returns/<int:period>/monitoring.xlsx",
        returns.MonitoringReturnView.as_view(),
        name="monitoring_return",
    ),
    path("allocations/<int:pk>/returns/", returns.LineReturnsView.as_view(), name="line_returns"),
    path(
        "allocations/<int:pk>/returns/<int:period>.xlsx",
        returns.LineReturnWorkbookView.as_view(),
        name="line_return_workbook",
    ),
    path(
        "allocations/<int:pk>/returns/upload/<uuid:token>/",
        returns.ReturnPreviewView.as_view(),
        name="line_return_preview",
    ),
    path("returns/<int:pk>/", returns.ReturnDetailView.as_view(), name="return_detail"),
    path("returns/<int:pk>/accept/", returns.ReturnAcceptView.as_view(), name="return_accept"),
]

# The audit trail's history pages (audit/views.py), named as pages of a fund and of an allocation.
urlpatterns += [
    path("funds/<slug:code>/history/", history_views.FundHistoryView.as_view(), name="fund_history"),
    path(
        "allocations/<int:pk>/history/",
        history_views.AllocationHistoryView.as_view(),
        name="allocation_history",
    ),
]
