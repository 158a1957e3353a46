"""Request-level defences that belong to the project rather than to any one app."""

import logging

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.db import DatabaseError
from django.http import HttpResponse
from django.urls import reverse

from ledger.errors import DATABASE_UNAVAILABLE, database_unavailable_response

logger = logging.getLogger(__name__)


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


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's sessions, where failing to move an idle session's expiry on does not fail the page.

    With SESSION_SAVE_EVERY_REQUEST every request writes its session row to extend the idle time.
    When the database refuses writes (read-only, full) that write would turn every page, even a
    read, into an error. A session whose contents did not change keeps its old expiry instead; a
    change that must be saved (logging in or out, a message) still fails loudly.
    """

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is None or session.modified or not settings.SESSION_SAVE_EVERY_REQUEST:
            return super().process_response(request, response)
        try:
            return super().process_response(request, response)
        except (DatabaseError, SessionInterrupted):
            # The session store reports a refused UPDATE as SessionInterrupted (as it does a session
            # deleted meanwhile, by logging out elsewhere; then the next request asks for a login).
            logger.warning("Could not extend the session's idle time: the database refused the write")
            return response


class DatabaseFailureMiddleware:
    """A view whose database cannot be written to (read-only, full) or reached gets a page saying so.

    (Outside a view, ledger.errors.server_error does the same.)

    Every write is one transaction (the services are atomic), so when the database refuses part of it
    nothing of it is kept; the page tells the user exactly that instead of a bare "Server Error".
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_UNAVAILABLE):
            return None
        logger.error("The database refused a request: %s", exception, exc_info=exception)
        return database_unavailable_response(request)
