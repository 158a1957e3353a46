import pytest
from django.core.management import call_command

from tests.factories import StaffUserFactory, UserFactory

SEED_FUND_CODE = "moj-ecf-2020"


@pytest.fixture
def seed_fund(db):
    """The 2020 MoJ fund loaded from its fixture, as `make run` loads it."""
    from grants.models import Fund

    call_command("loaddata", "moj_extraordinary_covid_fund_2020", verbosity=0)
    return Fund.objects.get(code=SEED_FUND_CODE)


@pytest.fixture
def officer(db):
    return UserFactory(username="officer")


@pytest.fixture
def staff_user(db):
    return StaffUserFactory(username="admin-user")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
