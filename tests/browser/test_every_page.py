"""Every page fits a 1280 px window and reads on a 390 px phone, with no serious accessibility fault.

One browser context visits each page as the role that uses it and checks it with `check_page`'s
rules (conftest.py) at both widths, saving screenshots to test-artifacts/pages/. A new page is one
more line in `OFFICER_PAGES` or `APPROVER_PAGES`: (screenshot name, URL, or a function of the
`Pages` that gives the URL).
"""

import datetime
from decimal import Decimal

import pytest

from grants import services
from grants.models import Allocation, LedgerEntry, ReportingPeriod
from grants.selectors.funds import stored_reconciliation
from grants.services import returns as return_services
from tests.browser.conftest import page_problems, sign_in_as, user_with_role
from tests.browser.test_import import unfamiliar_table
from tests.grants.test_provider_returns import fill, saved, workbook_for

pytestmark = pytest.mark.browser

FUND = "moj-ecf-2020"


class Pages:
    """The objects whose pages are visited: a line of the seed fund, its organisation, an entry, and
    an import awaiting its preview."""

    def __init__(self, fund, officer):
        self.line = Allocation.objects.filter(fund=fund).order_by("line_number").first()
        self.organisation = self.line.organisation_id
        # A payment awaiting approval: the approvals page, the line's entries and the fund's money
        # then show what they show on a working day.
        services.payment_record(
            allocation=self.line,
            amount=Decimal("100.00"),
            effective_date=datetime.date(2020, 9, 1),
            reference="PAY-1",
            acting_user=officer,
        )
        self.entry = LedgerEntry.objects.filter(allocation=self.line).order_by("pk").first().pk
        self.import_token = services.pending_import_create(
            fund=fund, file_name="Other office.xlsx", content=unfamiliar_table(), acting_user=officer
        ).token
        # A provider return received from the line, for an approver to read before accepting it.
        return_services.reporting_periods_create(fund=fund, frequency="quarterly", acting_user=officer)
        return_services.measures_standard_create(fund=fund, acting_user=officer)
        period = ReportingPeriod.objects.get(fund=fund, start=datetime.date(2020, 7, 1))
        self.provider_return = return_services.provider_return_import(
            allocation=self.line,
            file_name="Q2 return.xlsx",
            content=saved(fill(workbook_for(self.line, period), fund)),
            acting_user=officer,
        ).provider_return.pk


def line(path: str):
    return lambda pages: f"/allocations/{pages.line.pk}/{path}"


# (screenshot name, URL or function of Pages): the pages a finance officer uses.
OFFICER_PAGES = [
    ("dashboard", "/"),
    ("dashboard-year", "/?year=2020-21"),
    ("fund-list", "/funds/"),
    ("fund", f"/funds/{FUND}/"),
    ("fund-year", f"/funds/{FUND}/?year=2020-21"),
    ("fund-years", f"/funds/{FUND}/years/"),
    ("fund-profile", f"/funds/{FUND}/profile/"),
    ("fund-history", f"/funds/{FUND}/history/"),
    ("fund-import", f"/funds/{FUND}/import/"),
    ("fund-import-preview", lambda pages: f"/funds/{FUND}/import/{pages.import_token}/"),
    ("fund-received-add", f"/funds/{FUND}/received/add/"),
    ("fund-returned-add", f"/funds/{FUND}/returned/add/"),
    ("fund-carry-forward", f"/funds/{FUND}/carry-forward/"),
    ("allocation-add", f"/funds/{FUND}/allocations/add/"),
    ("allocation-list", "/allocations/"),
    ("allocation", line("")),
    ("allocation-edit", line("edit/")),
    ("allocation-change-amount", line("amount/")),
    ("allocation-history", line("history/")),
    ("payment-add", line("payments/add/")),
    ("underspend-add", line("underspend/add/")),
    ("underspend-due-add", line("underspend-due/add/")),
    ("line-carry-forward", line("carry-forward/")),
    ("entry-reverse", lambda pages: f"/entries/{pages.entry}/reverse/"),
    ("organisation-list", "/organisations/"),
    ("organisation", lambda pages: f"/organisations/{pages.organisation}/"),
    ("organisation-add", "/organisations/add/"),
    ("password-change", "/accounts/password/"),
    ("accessibility", "/accessibility/"),
    ("fund-add", "/funds/add/"),
    ("fund-edit", f"/funds/{FUND}/edit/"),
    ("fund-budgets", f"/funds/{FUND}/budgets/"),
    ("fund-register", f"/funds/{FUND}/register/"),
    ("fund-publication", f"/funds/{FUND}/publication/"),
    ("fund-returns", f"/funds/{FUND}/returns/"),
    ("allocation-register-text", line("register/")),
    ("allocation-schedule", line("schedule/")),
    ("instalment-add", line("schedule/add/")),
    ("allocation-returns", line("returns/")),
    ("organisation-edit", lambda pages: f"/organisations/{pages.organisation}/edit/"),
    ("forbidden", "/approvals/"),  # a finance officer approves nothing: the 403 page
]

# The pages an approver uses; `fund-reopen` and `fund-locked` come after the return is submitted.
APPROVER_PAGES = [
    ("approvals", "/approvals/"),
    ("provider-return", lambda pages: f"/returns/{pages.provider_return}/"),
    ("fund-submit", f"/funds/{FUND}/submit/"),
]
AFTER_SUBMISSION_PAGES = [
    ("fund-reopen", f"/funds/{FUND}/reopen/"),
    ("fund-locked", f"/funds/{FUND}/"),
]


def visit(page, pages, name, url, expected_status=200) -> list[str]:
    address = url(pages) if callable(url) else url
    response = page.goto(address)
    if response.status != expected_status:
        return [f"{name} ({address}) answered {response.status}, not {expected_status}"]
    return page_problems(page, name)


def test_every_page_fits_1280_and_390_px_and_passes_axe(page, live_server, seed_fund, transactional_db):
    officer = user_with_role("officer", "Finance officer", "irrelevant password 1")
    approver = user_with_role("approver", "Approver", "irrelevant password 2")
    pages = Pages(seed_fund, officer)
    problems = []

    page.goto("/accounts/login/")
    problems += page_problems(page, "login")

    sign_in_as(page, live_server, officer)
    for name, url in OFFICER_PAGES:
        problems += visit(page, pages, name, url, 403 if name == "forbidden" else 200)

    sign_in_as(page, live_server, approver)
    for name, url in APPROVER_PAGES:
        problems += visit(page, pages, name, url)
    # The seed fund is 29p over-allocated: the approver confirms that variance to submit it.
    variance = stored_reconciliation(seed_fund).variance
    services.fund_submit_return(fund=seed_fund, acting_user=approver, accepted_variance=variance)
    for name, url in AFTER_SUBMISSION_PAGES:
        problems += visit(page, pages, name, url)

    assert not problems, "\n".join(problems)
