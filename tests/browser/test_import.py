"""A finance officer brings a revised allocation table in from Excel: upload, preview, confirm."""

import re
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from grants.models import Allocation, ImportRecord, LedgerEntry
from tests.browser.test_finance_officer import FUND_URL, allocation_table, arrive, reconciliation_figure
from tests.grants.test_fixture import PRINTED_TABLE
from tests.grants.workbooks import HEADER, table, xlsx

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


def unfamiliar_table() -> bytes:
    """A table as another office publishes it: the amount first under "Amount Awarded", the names
    under "Provided", no number, thematic area or category column, and a section row saying what the
    lines below it are."""
    return xlsx(
        [
            ("Amount Awarded", "Provided"),
            (None, "Commissioned services"),
            (Decimal("500.00"), "Safer Streets Trust"),
            (Decimal("250.25"), "Newtown Refuge"),
        ]
    )


def serious_accessibility_violations(page) -> list[str]:
    """What axe-core finds on the page that it rates serious or critical."""
    results = Axe().run(page)
    return [
        f"{violation['id']}: {violation['help']} ({[node['target'] for node in violation['nodes']]})"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_an_unfamiliar_table_is_mapped_in_the_preview_then_imported(officer_page, screenshot):
    page = officer_page
    page.goto(FUND_URL)
    page.get_by_role("link", name="Import allocations from Excel").click()
    page.get_by_label("Spreadsheet (.xlsx)").set_input_files(
        {"name": "Other office.xlsx", "mimeType": XLSX, "buffer": unfamiliar_table()}
    )
    page.get_by_role("button", name="Preview the import").click()

    arrive(page, r"/funds/moj-ecf-2020/import/[0-9a-f-]{36}/$")
    columns = page.get_by_role("group", name="Columns").get_by_role("table")
    expect(columns.locator("tbody tr")).to_have_count(2)
    expect(columns.locator("tbody tr").nth(0)).to_contain_text("Amount Awarded")
    expect(columns.locator("tbody tr").nth(1)).to_contain_text("heading close to 'provider'")
    expect(page.get_by_label("Column B (“Provided”) is")).to_have_value("")
    expect(page.get_by_role("alert")).to_contain_text(
        "the section row 'Commissioned services' names no thematic area or funding category the ledger knows"
    )
    expect(page.get_by_role("button", name=re.compile(r"^Import "))).to_have_count(0)
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(page, "import-mapping")

    page.get_by_label("“Commissioned services” means").select_option(label="DA PCC commissioned")
    page.get_by_label("Thematic area for lines that name none").select_option(label="Domestic Abuse")
    page.get_by_role("button", name="Read the file again with these choices").click()

    arrive(page, r"/funds/moj-ecf-2020/import/[0-9a-f-]{36}/\?.*meaning_1=funding_category")
    expect(page.get_by_role("alert")).to_have_count(0)
    lines = page.get_by_role("region", name="Lines").get_by_role("table")
    expect(lines.locator("tbody tr")).to_have_count(2)
    first = lines.locator("tbody tr").nth(0)
    expect(first.locator("td").nth(1)).to_have_text("17")
    expect(first.locator("td").nth(2)).to_have_text("New line, numbered by the ledger")
    expect(first.locator("td").nth(5)).to_have_text("Domestic Abuse")
    expect(first.locator("td").nth(6)).to_have_text("DA PCC commissioned")
    expect(lines.locator("tfoot")).to_contain_text("£750.25")
    expect(page.get_by_label("“Commissioned services” means")).to_have_value(
        "funding_category:da-pcc-commissioned"
    )
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert not ImportRecord.objects.exists()

    page.get_by_role("button", name="Import 2 new and 0 changed lines").click()

    arrive(page, r"/funds/moj-ecf-2020/$")
    expect(page.get_by_role("status")).to_contain_text(
        "Imported Other office.xlsx: 2 lines added, 0 amounts changed, 0 unchanged, 2 organisations added."
    )
    table = allocation_table(page)
    expect(table.locator("tbody tr")).to_have_count(18)
    expect(table.locator("tbody tr").filter(has_text="Safer Streets Trust")).to_contain_text(
        "DA PCC commissioned"
    )
    added = Allocation.objects.filter(fund__code="moj-ecf-2020", line_number__in=[17, 18]).order_by(
        "line_number"
    )
    assert [
        (line.line_number, line.organisation.name, line.thematic_area.code, line.funding_category.code)
        for line in added
    ] == [
        (17, "Safer Streets Trust", "domestic-abuse", "da-pcc-commissioned"),
        (18, "Newtown Refuge", "domestic-abuse", "da-pcc-commissioned"),
    ]
    assert sorted(LedgerEntry.objects.filter(allocation__in=added).values_list("amount", flat=True)) == [
        Decimal("250.25"),
        Decimal("500.00"),
    ]
