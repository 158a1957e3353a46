from django.urls import path

from grants import views

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
