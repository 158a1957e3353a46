import pytest
from django.core.management import call_command

from tests.factories import StaffUserFactory, user_in_role

SEED_FUND_CODE = "moj-ecf-2020"


@pytest.fixture
def seed_fund(db):
    """The 2020 MoJ fund loaded from its fixture, as `make run` loads it."""
    from grants.models import Fund

    call_command("loaddata", "moj_extraordinary_covid_fund_2020", verbosity=0)
    return Fund.objects.get(code=SEED_FUND_CODE)


@pytest.fixture
def officer(db):
    """A finance officer: reads everything, records allocations and entries, approves nothing."""
    return user_in_role("Finance officer", "officer")


@pytest.fixture
def approver(db):
    """An approver: reads everything, approves entries recorded by others, submits and reopens returns."""
    return user_in_role("Approver", "approver")


@pytest.fixture
def viewer(db):
    return user_in_role("Viewer", "viewer")


@pytest.fixture
def staff_user(db):
    return StaffUserFactory(username="admin-user")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
