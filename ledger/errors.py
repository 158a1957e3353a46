"""The server-error handler: a database that is unavailable is told apart from a bug."""

import sys

from django.db import InterfaceError, InternalError, OperationalError
from django.http import HttpResponse
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
