"""The load test's set-up (`make load`): its steps, run against the test database, give a login
that every path the load test requests answers 200, and that can record nothing."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from grants.models import Fund, LedgerEntry
from ledger import load_setup
from tests.factories import user_in_role

PASSWORD = "a load test's password"
FUND = "load-fund"


@pytest.fixture
def prepared(db, monkeypatch, tmp_path):
    """`manage.py prepare_load_test` as scripts/load_test.sh runs it, and the paths it wrote."""
    monkeypatch.setenv("LOAD_PASSWORD", PASSWORD)
    paths_file = tmp_path / "paths"
    out = StringIO()
    call_command("prepare_load_test", lines=60, code=FUND, paths_file=str(paths_file), stdout=out)
    assert out.getvalue() == (
        "Fund load-fund: 60 lines for 400 providers.\n"
        "Login load-tester with the Viewer role; 6 paths to request.\n"
    )
    return paths_file.read_text().split()


def logged_in_as_the_load_test():
    """A client logged in through the login form, as the script does."""
    client = Client()
    response = client.post("/accounts/login/", {"username": "load-tester", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_the_load_test_requests_the_dashboard_the_fund_its_export_and_the_pages_by_year(prepared):
    assert prepared == [
        "/",
        "/funds/load-fund/",
        "/funds/load-fund/?export=csv",
        "/?year=2024-25",
        "/funds/load-fund/?year=2024-25",
        "/funds/load-fund/years/",
    ]


def test_every_path_the_load_test_requests_answers_200_to_its_login(prepared):
    client = logged_in_as_the_load_test()
    for path in prepared:
        response = client.get(path)
        assert (path, response.status_code) == (path, 200)
    # The pages by year show the year asked for, not the whole period with a problem said.
    assert client.get("/?year=2024-25").context["year_problem"] == ""
    fund_year = client.get("/funds/load-fund/?year=2024-25").context
    assert (fund_year["year_problem"], fund_year["chosen_year"].year.label) == ("", "2024-25")
    export = client.get("/funds/load-fund/?export=csv")
    assert export["Content-Type"].startswith("text/csv")
    assert len(b"".join(export.streaming_content).splitlines()) == 61


def test_the_load_login_is_a_viewer_that_cannot_record_entries(prepared, db):
    user = get_user_model().objects.get(username=load_setup.USERNAME)
    assert [group.name for group in user.groups.all()] == ["Viewer"]
    assert (user.is_active, user.is_staff, user.is_superuser) == (True, False, False)
    assert not user.has_perm("grants.add_ledgerentry")

    line = LedgerEntry.objects.filter(allocation__fund__code=FUND).earliest("pk").allocation
    payment = {"amount": "1.00", "effective_date": "2024-06-01", "reference": "BACS-LOAD"}
    client = logged_in_as_the_load_test()
    assert client.get(f"/allocations/{line.pk}/payments/add/").status_code == 403
    assert client.post(f"/allocations/{line.pk}/payments/add/", payment).status_code == 403
    assert not LedgerEntry.objects.filter(kind="payment").exists()

    # Positive control: the same form, posted by a finance officer, records the payment.
    officer = Client()
    officer.force_login(user_in_role("Finance officer", "officer"))
    assert officer.post(f"/allocations/{line.pk}/payments/add/", payment).status_code == 302
    assert LedgerEntry.objects.filter(kind="payment", reference="BACS-LOAD").count() == 1


def test_running_the_set_up_again_puts_the_login_back_to_a_viewer_with_the_new_password(
    prepared, monkeypatch
):
    user = get_user_model().objects.get(username=load_setup.USERNAME)
    user.is_superuser = user.is_staff = True
    user.save()
    user.groups.add(user.groups.model.objects.get(name="Approver"))

    monkeypatch.setenv("LOAD_PASSWORD", "the next run's password")
    out = StringIO()
    call_command("prepare_load_test", lines=60, code=FUND, stdout=out)
    assert out.getvalue() == (
        "Fund load-fund is already there; nothing to do.\n"
        "Login load-tester with the Viewer role; 6 paths to request.\n"
    )
    user = get_user_model().objects.get(username=load_setup.USERNAME)
    assert [group.name for group in user.groups.all()] == ["Viewer"]
    assert (user.is_staff, user.is_superuser, user.check_password("the next run's password")) == (
        False,
        False,
        True,
    )
    assert get_user_model().objects.filter(username=load_setup.USERNAME).count() == 1


def test_the_set_up_refuses_to_run_without_a_password(db, monkeypatch):
    monkeypatch.delenv("LOAD_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="Set LOAD_PASSWORD in the environment"):
        call_command("prepare_load_test", lines=5, code=FUND, stdout=StringIO())
    assert not get_user_model().objects.filter(username=load_setup.USERNAME).exists()
    assert not Fund.objects.filter(code=FUND).exists()
