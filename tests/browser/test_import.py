"""A finance officer brings a revised allocation table in from Excel: upload, preview, confirm."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from grants.models import ImportRecord, LedgerEntry
from tests.browser.test_finance_officer import FUND_URL, allocation_table, arrive, reconciliation_figure
from tests.grants.test_fixture import PRINTED_TABLE
from tests.grants.workbooks import HEADER, table

pytestmark = pytest.mark.browser

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def revised_table() -> bytes:
    """The seed table with line 8 raised by £35.50 and a new line 17 for a new provider."""
    rows = [
        (number, organisation, theme, Decimal(amount), category)
        for number, organisation, theme, amount, category in PRINTED_TABLE
    ]
    rows[7] = (8, rows[7][1], rows[7][2], Decimal("1300.50"), rows[7][4])
    rows.append(
        (17, "Safer Streets Trust (SST)", "Domestic Abuse", Decimal("2500.00"), "DA PCC commissioned")
    )
    return table(*rows, header=HEADER)


def test_importing_a_revised_table_previews_then_applies_it(officer_page, finance_officer, screenshot):
    page = officer_page
    page.goto(FUND_URL)
    page.get_by_role("link", name="Import allocations from Excel").click()
    arrive(page, r"/funds/moj-ecf-2020/import/$")

    page.get_by_label("Spreadsheet (.xlsx)").set_input_files(
        {"name": "ECF revised.xlsx", "mimeType": XLSX, "buffer": revised_table()}
    )
    page.get_by_role("button", name="Preview the import").click()

    arrive(page, r"/funds/moj-ecf-2020/import/[0-9a-f-]{36}/$")
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: import ECF revised.xlsx")
    lines = page.get_by_role("region", name="Lines").get_by_role("table")
    expect(lines.locator("tbody tr")).to_have_count(17)
    changed = lines.locator("tbody tr").filter(has_text="Amount changes")
    expect(changed).to_have_count(1)
    expect(changed.locator("td").nth(7)).to_have_text("£1,265.00")
    expect(changed.locator("td").nth(9)).to_have_text("£35.50")
    expect(page.get_by_role("region", name="Organisations to add")).to_contain_text(
        "Safer Streets Trust (SST)"
    )
    expect(page.locator(".variance-words")).to_have_text(
        "The allocations come to £2,535.79 more than the control total."
    )
    assert not ImportRecord.objects.exists()  # nothing written until confirmed
    screenshot(page, "import-preview")

    page.get_by_role("button", name=re.compile(r"^Import 1 new and 1 changed line")).click()

    arrive(page, r"/funds/moj-ecf-2020/$")
    expect(page.get_by_role("status")).to_contain_text(
        "Imported ECF revised.xlsx: 1 line added, 1 amount changed, 15 unchanged, 1 organisation added."
    )
    expect(page.get_by_role("status")).to_contain_text(
        "The new entries await approval; once approved: the allocations come to £2,535.79 more"
    )
    # Counted once someone else approves them.
    assert reconciliation_figure(page, "Ledger total (16 lines)") == "£738,810.82"
    assert reconciliation_figure(page, "Awaiting approval (2 lines), not counted above") == "£2,535.50"
    expect(allocation_table(page).locator("tbody tr")).to_have_count(17)
    record = ImportRecord.objects.get()
    assert (record.imported_by, record.file_name) == (finance_officer, "ECF revised.xlsx")
    variation = LedgerEntry.objects.get(kind="variation")
    assert variation.memo == f"Imported from ECF revised.xlsx (SHA-256 {record.sha256})"
