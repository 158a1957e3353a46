"""The FUND_CODE argument the management commands share."""

from django.core.management.base import CommandError

from grants.models import Fund

EXIT_BAD_INPUT = 2


def fund_from_code(code: str) -> Fund:
    """The fund with this code, or a CommandError (exit status 2) that lists the known codes."""
    fund = Fund.objects.select_related("funder").filter(code=code).first()
    if fund is None:
        known = ", ".join(Fund.objects.order_by("code").values_list("code", flat=True))
        raise CommandError(
            f"No fund has the code {code!r}. Known codes: {known or '(none yet)'}.",
            returncode=EXIT_BAD_INPUT,
        )
    return fund
