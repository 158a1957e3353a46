from django.urls import path

from grants import views

app_name = "grants"

urlpatterns = [
    path("", views.FundListView.as_view(), name="fund_list"),
    path("<slug:code>/", views.FundDetailView.as_view(), name="fund_detail"),
    path("<slug:code>/moj-return.xlsx", views.FundMojReturnView.as_view(), name="fund_moj_return"),
    path(
        "<slug:code>/360giving.<str:file_format>",
        views.FundThreeSixtyGivingView.as_view(),
        name="fund_360giving",
    ),
]
