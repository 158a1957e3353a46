"""Root URLs: the admin, Django's login/logout, the health check and the ledger's own pages.

Every view needs a login (LoginRequiredMiddleware) unless marked @login_not_required; the ones that
are, are listed in tests/ledger/test_access.py.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ledger.health import healthz

admin.site.site_header = "Grant allocation ledger"
admin.site.site_title = "Grant ledger admin"
admin.site.index_title = "Funds, organisations and allocations"

handler403 = "ledger.errors.permission_denied"
handler500 = "ledger.errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("", include("grants.urls")),
]
