"""Error handlers: a refusal that says what to do next, and a server error that tells an unavailable
database apart from a bug."""

import sys

from django.db import InterfaceError, InternalError, OperationalError
from django.http import HttpResponse, HttpResponseForbidden
from django.template.loader import render_to_string
from django.views import defaults

# Unreachable (OperationalError, InterfaceError), full (OperationalError: disk_full) or read-only
# (InternalError). Not IntegrityError, DataError or ProgrammingError: those are the ledger's bugs.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, InternalError)


def database_unavailable_response(request=None) -> HttpResponse:
    return HttpResponse(render_to_string("database_unavailable.html", request=request), status=503)


def server_error(request):
    """handler500. When the database failed outside a view (loading the session while PostgreSQL
    restarts, say), the page says so, with 503, rather than "something went wrong". It is drawn without
    the request's context, which would ask the same database for the user."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable_response()
    return defaults.server_error(request)


def has_no_role(user) -> bool:
    """Signed in, but in no group (the roles are groups, grants.roles) and given nothing directly."""
    return (
        user.is_authenticated
        and not user.is_superuser
        and not user.groups.exists()
        and not user.user_permissions.exists()
    )


def permission_denied(request, exception=None):
    """handler403. A user with no role is told so, and to ask an administrator; anyone else that
    their role does not allow it. Both pages offer a log-out button (a POST form with its CSRF
    token), so someone signed in as the wrong user is not stuck."""
    user = getattr(request, "user", None)
    context = {"no_role": user is not None and has_no_role(user)}
    return HttpResponseForbidden(render_to_string("403.html", context, request=request))
