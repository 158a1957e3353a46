from django.urls import path

from audit import views as history_views
from grants import services, views
from grants.models import LineChange

app_name = "grants"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("funds/", views.FundListView.as_view(), name="fund_list"),
    path("funds/<slug:code>/", views.FundDetailView.as_view(), name="fund_detail"),
    path("funds/<slug:code>/allocations/add/", views.AllocationCreateView.as_view(), name="allocation_add"),
    path("funds/<slug:code>/import/", views.FundImportView.as_view(), name="fund_import"),
    path(
        "funds/<slug:code>/import/<uuid:token>/",
        views.FundImportPreviewView.as_view(),
        name="fund_import_preview",
    ),
    path("funds/<slug:code>/moj-return.xlsx", views.FundMojReturnView.as_view(), name="fund_moj_return"),
    path(
        "funds/<slug:code>/360giving.<str:file_format>",
        views.FundThreeSixtyGivingView.as_view(),
        name="fund_360giving",
    ),
    path("allocations/", views.AllocationListView.as_view(), name="allocation_list"),
    path(
        "allocations/<int:pk>/amount/",
        views.AllocationChangeAmountView.as_view(),
        name="allocation_change_amount",
    ),
    path("organisations/", views.OrganisationListView.as_view(), name="organisation_list"),
    path("organisations/add/", views.OrganisationCreateView.as_view(), name="organisation_add"),
    path("organisations/<int:pk>/", views.OrganisationDetailView.as_view(), name="organisation_detail"),
]

urlpatterns += [
    path("allocations/<int:pk>/", views.AllocationDetailView.as_view(), name="allocation_detail"),
    path("allocations/<int:pk>/edit/", views.AllocationEditView.as_view(), name="allocation_edit"),
    path("allocations/<int:pk>/payments/add/", views.PaymentCreateView.as_view(), name="payment_add"),
    path("allocations/<int:pk>/underspend/add/", views.UnderspendCreateView.as_view(), name="underspend_add"),
    path("funds/<slug:code>/returned/add/", views.FunderReturnCreateView.as_view(), name="funder_return_add"),
    path("entries/<int:pk>/reverse/", views.EntryReverseView.as_view(), name="entry_reverse"),
    path("entries/<int:pk>/approve/", views.DecisionView.as_view(), name="entry_approve"),
    path(
        "entries/<int:pk>/reject/",
        views.DecisionView.as_view(decision=services.Decision.REJECT),
        name="entry_reject",
    ),
    path(
        "entries/<int:pk>/withdraw/",
        views.DecisionView.as_view(decision=services.Decision.WITHDRAW),
        name="entry_withdraw",
    ),
    path(
        "line-changes/<int:pk>/approve/",
        views.DecisionView.as_view(model=LineChange),
        name="line_change_approve",
    ),
    path(
        "line-changes/<int:pk>/reject/",
        views.DecisionView.as_view(model=LineChange, decision=services.Decision.REJECT),
        name="line_change_reject",
    ),
    path(
        "line-changes/<int:pk>/withdraw/",
        views.DecisionView.as_view(model=LineChange, decision=services.Decision.WITHDRAW),
        name="line_change_withdraw",
    ),
    path("approvals/", views.ApprovalListView.as_view(), name="approval_list"),
    path("funds/<slug:code>/submit/", views.FundSubmitView.as_view(), name="fund_submit"),
    path("funds/<slug:code>/reopen/", views.FundReopenView.as_view(), name="fund_reopen"),
    path(
        "funds/<slug:code>/submissions/<int:version>.xlsx",
        views.SubmissionDownloadView.as_view(),
        name="submission_download",
    ),
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
