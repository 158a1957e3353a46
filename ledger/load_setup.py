"""The load test's set-up (`make load`, scripts/load_test.sh): its login and the paths it loads.

Kept here, not in the shell script, so that a test runs the same steps against the test database
and checks that every path answers 200 to that login (tests/ledger/test_load_setup.py): the login
had no role once roles were added, every page answered 403, and nothing said so until `make load`
was next run.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from grants import roles
from grants.models import Fund
from grants.years import financial_year

USERNAME = "load-tester"
# The least role that reads every page the load test loads; it records and approves nothing.
ROLE = roles.VIEWER


def load_user(password: str):
    """The load test's login, with `password` and the Viewer role only: created if missing, and
    put back to exactly that (active, not staff, no other role) if it was changed since."""
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    user.set_password(password)
    user.is_active = True
    user.is_staff = user.is_superuser = False
    user.save()
    user.user_permissions.clear()
    user.groups.set([Group.objects.get(name=ROLE)])
    return user


def load_paths(fund: Fund) -> list[str]:
    """What the load test requests, in turn: the dashboard, the fund's page and its CSV export, and
    the pages by financial year (the dashboard and the fund page for the fund's first year, and the
    fund's years page)."""
    year = f"?year={financial_year(fund.spend_start).label}"
    dashboard = reverse("grants:dashboard")
    fund_page = reverse("grants:fund_detail", args=[fund.code])
    return [
        dashboard,
        fund_page,
        f"{fund_page}?export=csv",
        f"{dashboard}{year}",
        f"{fund_page}{year}",
        reverse("grants:fund_years", args=[fund.code]),
    ]
