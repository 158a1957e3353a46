"""Request-level defences that belong to the project rather than to any one app."""

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.urls import reverse


class RequestBodyLimitMiddleware:
    """Refuse a request whose declared body is larger than LEDGER_REQUEST_MAX_BYTES, before reading it.

    Django's own caps (DATA_UPLOAD_MAX_MEMORY_SIZE) leave file uploads unbounded: a file is spooled to
    disk however large it is. nginx's client_max_body_size is the first line; this is the second, for
    when gunicorn is reached without it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
        if length > settings.LEDGER_REQUEST_MAX_BYTES:
            limit_mb = settings.LEDGER_REQUEST_MAX_BYTES / (1024 * 1024)
            return HttpResponse(
                f"The request is too large: at most {limit_mb:.1f} MB can be sent.",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def client_ip(request) -> str:
    """The address a login attempt came from, for django-axes' throttling.

    Behind this project's nginx (LEDGER_BEHIND_PROXY=1) that is the last X-Forwarded-For entry, the one
    nginx itself wrote; otherwise gunicorn's peer address. Without this, every attempt through the proxy
    would come "from 127.0.0.1" and one person's failures would lock a username out for everyone.
    """
    if settings.LEDGER_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")


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
