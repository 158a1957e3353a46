"""The health endpoint for whoever runs the app: ok or not ok, and nothing else."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_safe
def healthz(request):
    """200 {"status": "ok"} when the database answers a query; 503 {"status": "not ok"} when not.

    The reason goes to the log, not to the (anonymous) caller.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database did not answer")
        return JsonResponse({"status": "not ok"}, status=503)
    return JsonResponse({"status": "ok"})
