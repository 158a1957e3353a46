"""A finance officer walks a clearly synthetic three-year fund through a financial year in a real
browser: profile the fund, award two lines for 2023-24 and vary one for 2024-25, pay a quarter, carry
part of a line and part of the control total forward, record a receipt from the funder; an approver,
in a second browser, approves what awaits approval; then the officer reads the outturn and the
year's reconciliation, checked to the penny against sums of the entries in the database, and
downloads the year's MoJ return.

Every page on the way is checked as a person would meet it: no serious or critical axe-core
violation, no wider than 1280 px, and no error in the browser's console.
"""

import datetime
import io
import re
from collections import defaultdict
from decimal import Decimal

import openpyxl
import pytest
from djmoney.money import Money
from playwright.sync_api import expect

from grants import money
from grants.models import Allocation, FundYear, LedgerEntry
from grants.years import FinancialYear, financial_year
from tests.browser.conftest import sign_in_as
from tests.browser.test_finance_officer import arrive
from tests.browser.test_import import serious_accessibility_violations
from tests.factories import FunderFactory, FundFactory, OrganisationFactory

pytestmark = pytest.mark.browser

CODE = "synthetic-walk-2023-26"
YEARS = (FinancialYear(2023), FinancialYear(2024), FinancialYear(2025))
PROFILE = {YEARS[0]: "100000.00", YEARS[1]: "110000.00", YEARS[2]: "90000.00"}
Kind = LedgerEntry.Kind
SCROLLED_SIDEWAYS = """[...document.querySelectorAll('section, .table-container')]
    .filter(box => box.scrollWidth > box.clientWidth)
    .map(box => `${box.id || box.className}: ${box.scrollWidth} px in ${box.clientWidth} px`)"""


def gbp(amount: Decimal) -> str:
    return money.format_gbp(money.gbp(amount))


def checked(page, console_errors: list[str]) -> None:
    """What every page of the walk must be: accessible, no wider than 1280 px, no console errors."""
    page.wait_for_load_state()
    assert serious_accessibility_violations(page) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280, page.url
    # Nor does a table hide columns in a box scrolled sideways (a section scrolls only on a narrow screen).
    assert page.evaluate(SCROLLED_SIDEWAYS) == [], page.url
    assert console_errors == [], page.url


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def add_line(page, *, organisation: str, amount: str, date: str, memo: str) -> None:
    page.get_by_role("link", name="Add an allocation").click()
    arrive(page, rf"/funds/{CODE}/allocations/add/$")
    page.get_by_label("Organisation").select_option(label=organisation)
    page.get_by_label("Service").fill("Synthetic outreach service")
    page.get_by_label("Thematic area").select_option(label="Domestic Abuse")
    page.get_by_label("Funding category").select_option(label="DA PCC non-commissioned")
    page.get_by_label("Amount (£)").fill(amount)
    page.get_by_label("Award date").fill(date)
    page.get_by_label("Source or reason").fill(memo)
    page.get_by_role("button", name="Add the allocation").click()
    arrive(page, rf"/funds/{CODE}/$")


def approve_everything(page, console_errors, *, expected_rows: int) -> None:
    page.goto("/approvals/")
    checked(page, console_errors)
    entries = page.get_by_role("region", name="Entries").get_by_role("table")
    expect(entries.locator("tbody tr")).to_have_count(expected_rows)
    for box in entries.get_by_role("checkbox").all():
        box.check()
    page.get_by_role("button", name="Approve the ticked items").click()
    arrive(page, r"/approvals/$")
    expect(page.get_by_role("status")).to_have_text(f"{expected_rows} items approved.")
    expect(page.get_by_text("No entry is awaiting approval.")).to_be_visible()


def expected_outturn(fund) -> dict[str, list[Decimal]]:
    """The outturn's recorded figures by year, summed here in Decimal from the approved entries."""
    approved = LedgerEntry.objects.filter(fund=fund, approved_at__isnull=False)
    by = defaultdict(Decimal)
    for entry in approved:
        year = financial_year(entry.effective_date).start_year
        value = entry.amount.amount
        if entry.kind == Kind.CARRIED_FORWARD and entry.allocation_id is None:
            by[("carried_in" if value > 0 else "carried_out", year)] += abs(value)
        if entry.allocation_id is not None and entry.kind in Kind.awarded_kinds():
            by[("allocated", year)] += value
        names = {
            Kind.RECEIVED_FROM_FUNDER: "received",
            Kind.PAYMENT: "paid",
            Kind.UNDERSPEND_RETURNED: "underspend_returned",
            Kind.RETURNED_TO_FUNDER: "returned_to_funder",
        }
        if entry.kind in names:
            by[(names[entry.kind], year)] += value
    awarded = {row.year: row.control_total.amount for row in FundYear.objects.filter(fund=fund)}
    figures = {}
    recorded = ("carried_in", "carried_out", "allocated", "received", "paid", "underspend_returned")
    for name in (*recorded, "returned_to_funder"):
        figures[name] = [by[(name, year.start_year)] for year in YEARS]
    # No underspend is declared due in this walk: the balances due at each year's start and end are nil.
    assert not LedgerEntry.objects.filter(fund=fund, kind=Kind.UNDERSPEND_DUE).exists()
    figures["underspend_due_at_start"] = figures["underspend_due"] = [Decimal("0.00")] * len(YEARS)
    figures["awarded"] = [awarded[year.start_year] for year in YEARS]
    figures["control_total"] = [
        a + i - o
        for a, i, o in zip(figures["awarded"], figures["carried_in"], figures["carried_out"], strict=True)
    ]
    figures["net_spend"] = [
        p - u for p, u in zip(figures["paid"], figures["underspend_returned"], strict=True)
    ]
    figures["cash_held"] = [
        r - n - t
        for r, n, t in zip(
            figures["received"], figures["net_spend"], figures["returned_to_funder"], strict=True
        )
    ]
    # With nothing due from a provider, the balance to return is the control total less net spend
    # and what already went back.
    figures["balance_to_return"] = [
        c - n - t
        for c, n, t in zip(
            figures["control_total"], figures["net_spend"], figures["returned_to_funder"], strict=True
        )
    ]
    return {name: [*values, sum(values, Decimal("0.00"))] for name, values in figures.items()}


def test_a_finance_officer_walks_a_fund_through_its_financial_years(
    officer_page, browser, live_server, approver, screenshot
):
    fund = FundFactory(
        code=CODE,
        name="Synthetic walk-through fund 2023-26 (not real data)",
        funder=FunderFactory(code="synthetic-walk-funder", name="Synthetic funder (not real)"),
        spend_start=datetime.date(2023, 4, 1),
        spend_end=datetime.date(2026, 3, 31),
        control_total=Money(Decimal("300000.00"), "GBP"),
    )
    OrganisationFactory(name="Synthetic Refuge A (not real)")
    OrganisationFactory(name="Synthetic Helpline B (not real)")
    page = officer_page
    officer_errors = watch_console(page)

    # The profile: one figure per financial year.
    page.goto(f"/funds/{CODE}/")
    checked(page, officer_errors)
    page.get_by_role("link", name="Profile by financial year").click()
    arrive(page, rf"/funds/{CODE}/profile/$")
    checked(page, officer_errors)
    for year, figure in PROFILE.items():
        page.get_by_label(f"{year.described} (£)").fill(figure)
    page.get_by_label("Why are the figures changing?").fill("Synthetic grant agreement (not real)")
    page.get_by_role("button", name="Save the profile").click()
    arrive(page, rf"/funds/{CODE}/$")
    checked(page, officer_errors)

    # Two lines awarded in 2023-24.
    add_line(page, organisation="Synthetic Refuge A (not real)", amount="60000.00", date="2023-05-02",
             memo="Synthetic award letter SYN-1")  # fmt: skip
    expect(page.get_by_role("status")).to_have_text(
        "Line 1 added: Synthetic Refuge A (not real) £60,000.00, awaiting approval."
    )
    add_line(page, organisation="Synthetic Helpline B (not real)", amount="39999.99", date="2023-05-02",
             memo="Synthetic award letter SYN-2")  # fmt: skip
    checked(page, officer_errors)
    refuge = Allocation.objects.get(fund=fund, line_number=1)
    helpline = Allocation.objects.get(fund=fund, line_number=2)

    # The approver, in a browser of their own, approves the awards, so money can move on the lines.
    approver_context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    try:
        approver_page = sign_in_as(approver_context.new_page(), live_server, approver)
        approver_errors = watch_console(approver_page)
        approve_everything(approver_page, approver_errors, expected_rows=2)

        # Line 1's 2024-25 amount, as a variation dated in that year.
        page.goto(f"/allocations/{refuge.pk}/")
        checked(page, officer_errors)
        page.get_by_role("link", name="Change the amount").click()
        arrive(page, rf"/allocations/{refuge.pk}/amount/$")
        checked(page, officer_errors)
        page.get_by_label("New amount (£)").fill("115000.50")
        page.get_by_label("Effective date").fill("2024-04-01")
        page.get_by_label("Reason for the change").fill("Synthetic 2024-25 award letter SYN-1b")
        page.get_by_role("button", name="Record the change").click()
        arrive(page, rf"/funds/{CODE}/$")
        expect(page.get_by_role("status")).to_have_text(
            "Line 1 changed by £55,000.50 to £115,000.50, awaiting approval."
        )

        # A quarter's payment on line 1.
        page.goto(f"/allocations/{refuge.pk}/")
        page.get_by_role("link", name="Record a payment").click()
        arrive(page, rf"/allocations/{refuge.pk}/payments/add/$")
        checked(page, officer_errors)
        page.get_by_label("Amount (£)").fill("15000.00")
        page.get_by_label("Date").fill("2023-06-30")
        page.get_by_label("Reference").fill("SYN-BACS-0001")
        page.get_by_label("Note").fill("Synthetic first quarter, April to June 2023")
        page.get_by_role("button", name=re.compile(r"^Record")).click()
        arrive(page, rf"/allocations/{refuge.pk}/$")
        checked(page, officer_errors)

        # Part of line 2's 2023-24 amount carried forward to 2024-25.
        page.goto(f"/allocations/{helpline.pk}/")
        page.get_by_role("link", name="Carry forward to the next year").click()
        arrive(page, rf"/allocations/{helpline.pk}/carry-forward/$")
        checked(page, officer_errors)
        page.get_by_label("Carry forward from").select_option(label=YEARS[0].described)
        page.get_by_label("Amount (£)").fill("4999.99")
        page.get_by_label("Funder's agreement").fill("SYN-AGREEMENT-1")
        page.get_by_role("button", name="Record the carry-forward").click()
        arrive(page, rf"/allocations/{helpline.pk}/$")
        expect(page.get_by_role("status")).to_have_text(
            "£4,999.99 carried forward to 2024-25, awaiting approval."
        )
        checked(page, officer_errors)

        # Part of the fund's 2023-24 control total carried forward, from the years page.
        page.goto(f"/funds/{CODE}/years/")
        checked(page, officer_errors)
        page.get_by_role("link", name="Carry part of a year's control total forward").click()
        arrive(page, rf"/funds/{CODE}/carry-forward/$")
        checked(page, officer_errors)
        page.get_by_label("Carry forward from").select_option(label=YEARS[0].described)
        page.get_by_label("Amount (£)").fill("2500.00")
        page.get_by_label("Funder's agreement").fill("SYN-AGREEMENT-2")
        page.get_by_role("button", name="Record the carry-forward").click()
        arrive(page, rf"/funds/{CODE}/years/$")
        expect(page.get_by_role("status")).to_have_text(
            "£2,500.00 carried forward to 2024-25, awaiting approval."
        )
        checked(page, officer_errors)

        # A receipt from the funder, from the fund page.
        page.goto(f"/funds/{CODE}/")
        page.get_by_role("link", name="Record money received from the funder").click()
        arrive(page, rf"/funds/{CODE}/received/add/$")
        checked(page, officer_errors)
        page.get_by_label("Amount (£)").fill("50000.00")
        page.get_by_label("Date").fill("2023-04-14")
        page.get_by_label("Reference").fill("SYN-FUNDER-0001")
        page.get_by_role("button", name=re.compile(r"^Record")).click()
        arrive(page, rf"/funds/{CODE}/$")
        expect(page.get_by_role("status")).to_have_text(
            "Received from funder of £50,000.00 recorded, awaiting approval."
        )
        checked(page, officer_errors)
        assert LedgerEntry.objects.filter(fund=fund, approved_at__isnull=True).count() == 7

        # Each carry-forward pair is one row to approve: variation, payment, receipt and two pairs.
        approver_page.goto("/approvals/")
        pairs = (
            approver_page.get_by_role("region", name="Entries")
            .locator("tbody tr")
            .filter(has_text="a pair, decided together")
        )
        expect(pairs).to_have_count(2)
        approve_everything(approver_page, approver_errors, expected_rows=5)
        screenshot(approver_page, "financial-year-approvals")
    finally:
        approver_context.close()
    assert not LedgerEntry.objects.filter(fund=fund, approved_at__isnull=True).exists()

    expected = expected_outturn(fund)
    # The walk made these figures; the test's own sums are checked against them too.
    assert expected["allocated"] == [
        Decimal("95000.00"), Decimal("60000.49"), Decimal("0.00"), Decimal("155000.49")
    ]  # fmt: skip
    assert expected["control_total"][:2] == [Decimal("97500.00"), Decimal("112500.00")]

    # The years page: the outturn, column by column, to the penny.
    page.goto(f"/funds/{CODE}/years/")
    checked(page, officer_errors)
    outturn = page.get_by_role("region", name="Outturn")
    expect(outturn.locator("tbody tr")).to_have_count(len(expected))
    for name, values in expected.items():
        cells = outturn.locator(f"#outturn-{name} td").all_inner_texts()
        assert cells == [gbp(value) for value in values], name
    screenshot(page, "financial-year-outturn")

    # The fund page for 2024-25: the year's reconciliation.
    page.goto(f"/funds/{CODE}/?year=2024-25")
    checked(page, officer_errors)
    panel = page.get_by_role("region", name=re.compile(r"^Reconciliation for 2024-25"))
    rows = dict(
        (row.locator("th").inner_text().strip(), row.locator("td").inner_text().strip())
        for row in panel.locator("table").first.locator("tbody tr").all()
    )
    control, allocated = expected["control_total"][1], expected["allocated"][1]
    assert rows["Control total for 2024-25"] == gbp(control)
    assert rows["of which carried forward (approved; into the year, less out of it)"] == gbp(
        expected["carried_in"][1] - expected["carried_out"][1]
    )
    assert rows["Allocated in 2024-25 (2 lines)"] == gbp(allocated)
    assert rows["Variance (allocated minus control)"] == gbp(allocated - control)
    assert rows["Received from the funder (approved)"] == gbp(expected["received"][1])
    assert rows["Paid to providers (approved)"] == gbp(expected["paid"][1])
    screenshot(page, "financial-year-fund-2024-25")

    # The year's MoJ return, from the years page's link, opens with its Outturn sheet.
    page.goto(f"/funds/{CODE}/years/")
    with page.expect_download() as download:
        page.get_by_role("region", name="Outturn").get_by_role("link", name="2024-25", exact=True).click()
    # openpyxl goes by a file's name, and Playwright saves a download under none.
    workbook = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert "Outturn" in workbook.sheetnames
    assert download.value.suggested_filename.endswith(".xlsx")
