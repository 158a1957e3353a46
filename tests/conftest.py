import pytest
from django.core.management import call_command

from tests.factories import StaffUserFactory, user_in_role

SEED_FUND_CODE = "moj-ecf-2020"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so fixtures can tell whether the test itself ran."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def figures_agree_with_entries(request):
    """After every test that used the database, the figures the triggers keep (grants.figures)
    still agree with the allocations and entries, to the penny: every write the suite makes,
    through services, forms, the admin, imports, fixtures or raw SQL, checks the triggers."""
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if names & {"transactional_db", "live_server"} or (marker and marker.kwargs.get("transaction")):
        database = "transactional_db"
    elif "db" in names or marker:
        database = "db"
    else:
        yield
        return
    request.getfixturevalue(database)
    yield
    from django.db import connection

    from grants.figures import figures_drift

    call = getattr(request.node, "report_call", None)
    if call is None or not call.passed:
        return  # skipped, or failed already: nothing more to learn
    if connection.connection is None or connection.closed_in_transaction:
        return  # closed by the test (a command run as from the shell): its writes were rolled back
    drift = figures_drift(limit=10)
    assert not drift, "stored figures drifted from the entries:\n" + "\n".join(map(str, drift))


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
