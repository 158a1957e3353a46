"""A finance officer sets up a fund's returns, exports a line's return, imports it completed (filled in
with openpyxl as a provider would), records the underspend it shows, and downloads the monitoring
return; each new page checked with axe-core at 1280 and 390 px."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from grants import services
from grants.models import LedgerEntry, ProviderReturn
from tests.browser.conftest import sign_in_as
from tests.browser.test_finance_officer import arrive
from tests.browser.test_import import serious_accessibility_violations
from tests.factories import AllocationFactory, FundFactory, approve_pending
from tests.grants.test_provider_returns import fill, saved

pytestmark = pytest.mark.browser

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def accessible_at_both_widths(page):
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert serious_accessibility_violations(page) == [], (page.url, width)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_officer_exports_imports_records_underspend_and_downloads_the_monitoring_return(
    page, live_server, finance_officer
):
    fund = FundFactory(
        code="returns-browser",
        spend_start=datetime.date(2023, 4, 1),
        spend_end=datetime.date(2025, 3, 31),
        control_total=Decimal("100000.00"),
    )
    line = AllocationFactory(fund=fund, amount=Decimal("1000.00"), effective_date=datetime.date(2023, 4, 3))
    services.payment_record(
        allocation=line,
        amount=Decimal("800.00"),
        effective_date=datetime.date(2023, 6, 1),
        reference="BACS-1",
        acting_user=finance_officer,
    )
    approve_pending(allocation=line, kind="payment")
    sign_in_as(page, live_server, finance_officer)

    page.goto(f"/funds/{fund.code}/returns/")
    accessible_at_both_widths(page)
    page.get_by_label("Periods of each financial year").select_option("quarterly")
    page.get_by_role("button", name="Set up the periods").click()
    arrive(page, rf"/funds/{fund.code}/returns/$")
    page.get_by_role("button", name="Add the standard measures").click()
    arrive(page, rf"/funds/{fund.code}/returns/$")
    expect(page.get_by_role("status")).to_contain_text("8 standard measures added.")
    accessible_at_both_widths(page)

    page.goto(f"/allocations/{line.pk}/returns/")
    accessible_at_both_widths(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the return for 1 January 2024 to 31 March 2024").click()
    book = openpyxl.load_workbook(io.BytesIO(download_info.value.path().read_bytes()))
    filled = saved(fill(book, fund, to_date="650"))

    page.get_by_label("Completed return (.xlsx)").set_input_files(
        {"name": "q4 return.xlsx", "mimeType": XLSX, "buffer": filled}
    )
    page.get_by_role("button", name="Preview the return").click()
    arrive(page, rf"/allocations/{line.pk}/returns/upload/[0-9a-f-]{{36}}/$")
    expect(page.get_by_role("region", name="Against the ledger")).to_contain_text(
        "underspend of £150.00 is due back"
    )
    accessible_at_both_widths(page)
    assert not ProviderReturn.objects.exists()
    page.get_by_label("Also record the underspend of £150.00").check()
    page.get_by_role("button", name="Import the return").click()
    arrive(page, rf"/allocations/{line.pk}/returns/$")
    expect(page.get_by_role("status")).to_contain_text(
        "The underspend is recorded as due and awaits approval."
    )
    entry = LedgerEntry.objects.get(kind="underspend_due")
    assert (entry.amount.amount, entry.is_pending) == (Decimal("150.00"), True)
    expect(page.locator("td.state-received")).to_have_count(1)

    page.goto(f"/funds/{fund.code}/returns/")
    with page.expect_download() as download_info:
        page.get_by_role("row", name="1 January 2024 to 31 March 2024").get_by_role("link").click()
    sheet = openpyxl.load_workbook(io.BytesIO(download_info.value.path().read_bytes()))["Monitoring"]
    assert sheet["E5"].value == 650
    assert sheet["D5"].value == 800
