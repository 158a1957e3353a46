"""An approver ticks two entries and approves them together; a fund's history is filtered to its
ledger entries. Both pages are checked with axe-core at 1280 and 390 px, and fit a 1280 px window."""

import pytest
from playwright.sync_api import expect

from grants.models import Allocation, LedgerEntry
from tests.browser.conftest import sign_in_as
from tests.browser.test_import import serious_accessibility_violations
from tests.factories import pay

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)


def checked_at_both_widths(page, screenshot, name: str) -> None:
    """No serious or critical axe-core violation at either width; no page wider than 1280 px."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert serious_accessibility_violations(page) == [], f"{name} at {width} px"
        if width == 1280:
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280, (
                f"{name} is wider than 1280 px"
            )
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_approver_ticks_two_entries_and_approves_them_together(
    page, live_server, finance_officer, approver, seed_fund, screenshot
):
    line = Allocation.objects.filter(fund=seed_fund).order_by("line_number").first()
    first = pay(line, "10.00", finance_officer, reference="BACS-A")
    second = pay(line, "20.00", finance_officer, reference="BACS-B")
    left = pay(line, "30.00", finance_officer, reference="BACS-C")
    sign_in_as(page, live_server, approver)

    page.goto("/approvals/")
    checked_at_both_widths(page, screenshot, "approvals")
    page.get_by_label(f"Choose Payment to provider of £10.00 on line {line.line_number}").check()
    page.get_by_label(f"Choose Payment to provider of £20.00 on line {line.line_number}").check()
    page.get_by_role("button", name="Approve the ticked items").click()

    expect(page.get_by_role("status")).to_contain_text("2 items approved.")
    assert list(
        LedgerEntry.objects.filter(pk__in=[first.pk, second.pk, left.pk])
        .order_by("pk")
        .values_list("approved_by", flat=True)
    ) == [approver.pk, approver.pk, None]
    expect(page.locator(f"#entry-{left.pk}")).to_be_visible()
    expect(page.locator(f"#entry-{first.pk}")).to_have_count(0)


def test_a_fund_history_filtered_to_its_ledger_entries(
    page, live_server, finance_officer, approver, seed_fund, screenshot
):
    line = Allocation.objects.filter(fund=seed_fund).order_by("line_number").first()
    pay(line, "10.00", finance_officer, reference="BACS-H")
    sign_in_as(page, live_server, approver)

    page.goto(f"/funds/{seed_fund.code}/history/")
    page.get_by_label("What").select_option(label="Ledger entry")
    page.get_by_label("Who").select_option(label=finance_officer.username)
    page.get_by_role("button", name="Apply filters").click()

    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ledger entry")
    expect(rows.first).to_contain_text("BACS-H")
    expect(rows.first).not_to_contain_text("Uuid")
    checked_at_both_widths(page, screenshot, "fund-history-filtered")
