"""An approver's acceptance and a corrected file's import racing on PostgreSQL: the acceptance is
never silently wiped by the import that started before it."""

import datetime
import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection

from grants.models import ProviderReturn
from grants.services import returns as return_services
from tests.grants.test_provider_returns import (
    fill,
    line,  # noqa: F401 (a fixture)
    period_starting,
    saved,
    two_year_fund,  # noqa: F401 (a fixture)
    workbook_for,
)

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's row locks")


def test_an_acceptance_during_an_import_is_not_wiped(transactional_db, line, officer, approver):  # noqa: F811
    from tests.factories import user_in_role

    clerk = user_in_role("Finance officer", "clerk")
    period = period_starting(line.fund, datetime.date(2024, 1, 1))
    first = saved(fill(workbook_for(line, period), line.fund, to_date="650"))
    return_services.provider_return_import(
        allocation=line, file_name="q4.xlsx", content=first, acting_user=officer
    )
    received = ProviderReturn.objects.get()
    corrected = saved(fill(workbook_for(line, period), line.fund, to_date="700"))
    outcome = {}

    def accept():
        try:
            return_services.provider_return_accept(
                provider_return=received, expected_version=received.version, acting_user=approver
            )
            outcome["accepted"] = True
        except Exception as error:  # noqa: BLE001
            outcome["accepted"] = False
            outcome["error"] = str(error)
        finally:
            connection.close()

    real_preview = return_services.return_preview
    other = threading.Thread(target=accept)

    def preview_then_accept(**kwargs):
        preview = real_preview(**kwargs)
        other.start()
        other.join(timeout=3)  # blocked on the return's row lock, once the import holds it
        return preview

    with mock.patch.object(return_services, "return_preview", side_effect=preview_then_accept):
        try:
            return_services.provider_return_import(
                allocation=line, file_name="q4-corrected.xlsx", content=corrected, acting_user=clerk
            )
        except Exception as error:  # noqa: BLE001
            outcome["import_error"] = str(error)
    other.join(timeout=10)
    kept = ProviderReturn.objects.get()
    if outcome.get("accepted"):
        assert kept.is_accepted, f"the acceptance was wiped by the import: {outcome}"
        assert kept.spend_to_date.amount == Decimal("650.00")
    else:
        assert not kept.is_accepted and kept.spend_to_date.amount == Decimal("700.00")
