"""Root URLs: the admin, Django's login/logout, and the ledger's own pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Grant allocation ledger"
admin.site.site_title = "Grant ledger admin"
admin.site.index_title = "Funds, organisations and allocations"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="grants:fund_list", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("funds/", include("grants.urls")),
]
