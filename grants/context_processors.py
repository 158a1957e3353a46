"""Values every template can use."""

from django.conf import settings


def office(request):
    return {"office_name": settings.LEDGER_OFFICE_NAME}
