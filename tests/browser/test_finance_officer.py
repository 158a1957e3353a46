"""A finance officer's day in a real browser: log in, check the reconciliation, find, sort and enter lines."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from grants.models import Allocation, LedgerEntry
from tests.browser.conftest import OFFICER_PASSWORD, OFFICER_USERNAME, sign_in_as

pytestmark = pytest.mark.browser

FUND_URL = "/funds/moj-ecf-2020/"
ADD_URL = "/funds/moj-ecf-2020/allocations/add/"
FUND_NAME = "Extraordinary Covid Fund for domestic abuse and sexual violence services"


def amount(text: str) -> Decimal:
    """£1,234.56 as a Decimal."""
    return Decimal(text.strip().removeprefix("£").replace(",", ""))


def allocation_table(page):
    return page.get_by_role("region", name="Allocations", exact=True).get_by_role("table")


def column(table, header: str) -> list[str]:
    """The body cells under the header of that name, top to bottom."""
    # The sorted column's header ends in an arrow (hidden from screen readers, which get aria-sort).
    headers = [text.strip(" \n↑↓") for text in table.locator("thead th").all_inner_texts()]
    index = headers.index(header)
    return [row.locator("th, td").nth(index).inner_text().strip() for row in table.locator("tbody tr").all()]


def arrive(page, url_pattern: str):
    """Wait until the page is at that URL and the document there has finished loading."""
    expect(page).to_have_url(re.compile(url_pattern))
    page.wait_for_load_state()


def reconciliation_figure(page, row_heading: str) -> str:
    row = page.get_by_role("row", name=re.compile(rf"^{re.escape(row_heading)}"))
    return row.get_by_role("cell").inner_text().strip()


def fill_allocation_form(page, *, amount_text: str):
    page.get_by_label("Organisation").select_option(label="Aaina Hub")
    page.get_by_label("Service").fill("Helpline extension")
    page.get_by_label("Thematic area").select_option(label="Domestic Abuse")
    page.get_by_label("Funding category").select_option(label="DA PCC non-commissioned")
    page.get_by_label("Amount (£)").fill(amount_text)
    page.get_by_label("Source or reason").fill("Award letter ECF-17")
    page.get_by_role("button", name="Add the allocation").click()


def test_logging_in_through_the_form_returns_to_the_page_asked_for(page, finance_officer, seed_fund):
    page.goto(FUND_URL)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/funds/moj-ecf-2020/$"))

    page.get_by_label("Username").fill(OFFICER_USERNAME)
    page.get_by_label("Password").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/funds/moj-ecf-2020/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(FUND_NAME)
    expect(page.get_by_role("button", name=f"Log out {OFFICER_USERNAME}")).to_be_visible()

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")


def test_a_wrong_password_is_refused_in_plain_words(page, finance_officer):
    log_in_url = "/accounts/login/"
    page.goto(log_in_url)
    page.get_by_label("Username").fill(OFFICER_USERNAME)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Your username and password didn't match. Please try again."
    )
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)


def test_dashboard_shows_the_seed_fund_over_allocated_by_29p(officer_page, screenshot):
    page = officer_page
    page.goto("/")
    funds = page.get_by_role("region", name="Funds and their reconciliation").get_by_role("table")
    headers = [text.strip() for text in funds.locator("thead th").all_inner_texts()]
    row = funds.locator("tbody tr").filter(has_text="moj-ecf-2020")
    expect(row).to_have_count(1)
    cells = dict(
        zip(headers, (text.strip() for text in row.locator("th, td").all_inner_texts()), strict=True)
    )

    assert cells["Funder"] == "MoJ"
    assert cells["Spend period"] == "23 March 2020 to 31 October 2020"
    assert cells["Control total"] == "£738,810.53"
    assert cells["Ledger total"] == "£738,810.82"
    assert cells["Variance"] == "£0.29"
    assert cells["Reconciliation"] == "over-allocated"
    expect(row.locator(".badge")).to_have_class(re.compile(r"\bbadge-over-allocated\b"))

    expect(page.get_by_role("img", name="Allocations by funding category")).to_be_visible()
    screenshot(page, "dashboard")


def test_fund_table_filtered_to_one_category_shows_its_4_lines_and_total(officer_page, screenshot):
    page = officer_page
    page.goto(FUND_URL)
    table = allocation_table(page)
    expect(table.locator("tbody tr")).to_have_count(16)
    expect(table.locator("tfoot td.num").first).to_have_text("£738,810.82")
    screenshot(page, "fund")

    page.get_by_label("Funding category").select_option(label="DA PCC non-commissioned")
    page.get_by_role("button", name="Apply filters").click()

    # The filter returns to the table (#allocations), not to the top of the page.
    arrive(page, r"[?&]funding_category=da-pcc-non-commissioned(&|#allocations$)")
    assert page.evaluate("window.scrollY") > 0
    expect(table.locator("tbody tr")).to_have_count(4)
    assert column(table, "No.") == ["13", "14", "15", "16"]
    assert set(column(table, "Funding category")) == {"DA PCC non-commissioned"}
    expect(table.locator("tfoot td.num").first).to_have_text("£67,349.00")
    assert sum(amount(text) for text in column(table, "Amount")) == Decimal("67349.00")
    # The filter form keeps the choice, so the officer can see what the table is showing.
    expect(page.get_by_label("Funding category")).to_have_value("da-pcc-non-commissioned")

    # Sorting keeps the filter, and the filter's total.
    table.get_by_role("link", name="Amount", exact=True).click()
    arrive(page, r"[?&]sort=awarded(&|#allocations$)")
    assert re.search(r"[?&]funding_category=da-pcc-non-commissioned(&|#allocations$)", page.url)
    amounts = [amount(text) for text in column(table, "Amount")]
    assert amounts == sorted(amounts) and len(amounts) == 4
    expect(table.locator("tfoot td.num").first).to_have_text("£67,349.00")


def test_clicking_the_amount_header_sorts_ascending_then_descending(officer_page):
    page = officer_page
    page.goto(FUND_URL)
    table = allocation_table(page)
    by_line = [amount(text) for text in column(table, "Amount")]
    assert len(by_line) == 16
    header = table.locator("thead th").filter(has=page.get_by_role("link", name="Amount", exact=True))

    table.get_by_role("link", name="Amount", exact=True).click()
    arrive(page, r"[?&]sort=awarded#allocations$")
    # Back at the table, not at the top of the page: its section is at the top of the window.
    assert page.evaluate("window.scrollY") > 0
    assert abs(page.evaluate("document.getElementById('allocations').getBoundingClientRect().top")) < 2
    expect(header).to_have_attribute("aria-sort", "ascending")
    ascending = [amount(text) for text in column(table, "Amount")]
    assert ascending == sorted(by_line)

    table.get_by_role("link", name="Amount", exact=True).click()
    arrive(page, r"[?&]sort=-awarded#allocations$")
    expect(header).to_have_attribute("aria-sort", "descending")
    descending = [amount(text) for text in column(table, "Amount")]
    assert descending == sorted(by_line, reverse=True)
    assert descending[0] > descending[-1]
    # The footer is the total of every line, whatever the order.
    expect(table.locator("tfoot td.num").first).to_have_text("£738,810.82")


def test_an_added_allocation_counts_once_someone_else_approves_it(
    officer_page, finance_officer, approver, live_server, screenshot
):
    page = officer_page
    page.goto(FUND_URL)
    page.get_by_role("link", name="Add an allocation").click()
    expect(page).to_have_url(re.compile(r"/funds/moj-ecf-2020/allocations/add/$"))
    expect(page.get_by_label("Line number")).to_have_value("17")

    fill_allocation_form(page, amount_text="100.00")

    arrive(page, r"/funds/moj-ecf-2020/$")
    expect(page.get_by_role("status")).to_have_text("Line 17 added: Aaina Hub £100.00, awaiting approval.")
    # Recorded, but not counted until someone else approves it.
    assert reconciliation_figure(page, "Ledger total (16 lines)") == "£738,810.82"
    assert reconciliation_figure(page, "Awaiting approval (1 line), not counted above") == "£100.00"
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)

    sign_in_as(page, live_server, approver)
    page.goto("/approvals/")
    page.get_by_role("button", name="Approve Award of £100.00").click()
    arrive(page, r"/approvals/$")
    expect(page.get_by_role("status")).to_have_text("Award of £100.00 approved.")
    expect(page.get_by_text("No entry is awaiting approval.")).to_be_visible()
    screenshot(page, "approvals")

    page.goto(FUND_URL)
    assert reconciliation_figure(page, "Ledger total (17 lines)") == "£738,910.82"
    assert reconciliation_figure(page, "Variance (ledger minus control)") == "£100.29"
    expect(page.locator(".variance-words")).to_have_text(
        "The allocations come to £100.29 more than the control total."
    )
    expect(allocation_table(page).locator("tbody tr")).to_have_count(17)

    award = LedgerEntry.objects.get(allocation__fund__code="moj-ecf-2020", allocation__line_number=17)
    assert (award.amount.amount, award.memo, award.recorded_by, award.approved_by) == (
        Decimal("100.00"),
        "Award letter ECF-17",
        finance_officer,
        approver,
    )


@pytest.mark.parametrize(
    ("amount_text", "message"),
    [
        ("12.345", "Ensure that there are no more than 2 decimal places."),
        ("0.00", "Ensure this value is greater than or equal to 0.01."),
    ],
)
def test_a_bad_amount_is_explained_beside_the_amount_field(officer_page, amount_text, message):
    page = officer_page
    page.goto(ADD_URL)

    fill_allocation_form(page, amount_text=amount_text)

    expect(page).to_have_url(re.compile(r"/funds/moj-ecf-2020/allocations/add/$"))
    amount_field = page.get_by_label("Amount (£)")
    expect(amount_field).to_have_attribute("aria-invalid", "true")
    expect(amount_field).to_have_value(amount_text)
    beside = page.locator(".entry div").filter(has=amount_field)
    expect(beside.locator(".errorlist")).to_have_text(message)
    expect(page.locator(".errorlist")).to_have_count(1)
    # What the officer chose is still there to correct.
    expect(page.get_by_label("Organisation").locator("option:checked")).to_have_text("Aaina Hub")
    assert Allocation.objects.filter(fund__code="moj-ecf-2020").count() == 16


def test_after_logging_out_the_fund_page_asks_for_a_login(officer_page):
    page = officer_page
    page.goto(FUND_URL)

    page.get_by_role("button", name=re.compile(r"^Log out")).click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    page.goto(FUND_URL)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/funds/moj-ecf-2020/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(page.get_by_text(FUND_NAME)).to_have_count(0)


def test_the_fund_page_leads_to_its_financial_years_and_one_year_in_full(officer_page, screenshot):
    from tests.browser.test_import import serious_accessibility_violations

    page = officer_page
    page.goto(FUND_URL)
    page.get_by_role("link", name="The reconciliation by financial year").click()
    arrive(page, r"/funds/moj-ecf-2020/years/$")
    years = page.get_by_role("region", name="By financial year", exact=True).get_by_role("table")
    expect(years.locator("tbody tr")).to_have_count(2)
    expect(years.locator("tbody tr").nth(0)).to_contain_text("no control total for this year")
    years.get_by_role("link", name="2020-21").click()

    arrive(page, r"/funds/moj-ecf-2020/years/\?year=2020-21")
    panel = page.get_by_role("region", name=re.compile(r"^Reconciliation for 2020-21"))
    expect(panel).to_contain_text("Showing 2020-21 (1 April 2020 to 31 March 2021) · Show every year")
    assert reconciliation_figure(page, "Allocated in 2020-21 (16 lines)") == "£738,810.82"
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(page, "fund-year")

    panel.get_by_role("link", name="Show every year").click()
    arrive(page, r"/funds/moj-ecf-2020/years/$")
    page.get_by_role("link", name=re.compile(r"^Back to ")).click()
    arrive(page, r"/funds/moj-ecf-2020/$")
    expect(page.get_by_role("region", name=re.compile(r"^Reconciliation: over-allocated"))).to_be_visible()
