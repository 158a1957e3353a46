"""Request-level defences that belong to the project rather than to any one app."""

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's deny-by-default login check, sending the admin's visitors to the admin's own login.

    The admin checks staff status itself and logs in at /admin/login/; without this its pages would
    send an anonymous visitor to the finance officers' login page instead.
    """

    def handle_no_permission(self, request, view_func):
        match = request.resolver_match
        if match is not None and match.namespace == "admin":
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return super().handle_no_permission(request, view_func)
