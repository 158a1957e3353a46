"""Values every template can use."""

from django.conf import settings


def office(request):
    return {"office_name": settings.LEDGER_OFFICE_NAME}


def approvals(request):
    """For approvers, how many entries and changes recorded by others await their decision (one
    query, made only when the navigation shows it: the template calls it)."""
    user = getattr(request, "user", None)

    def awaiting_approval_count() -> int:
        from grants.selectors import awaiting_decision_count

        return awaiting_decision_count(user)

    return {"awaiting_approval_count": awaiting_approval_count}
