"""The MoJ return as it prints (issue 18): each sheet's page setup read back with openpyxl, the rows
under the Allocations sheet's Total recomputed without Excel, and the workbook printed to PDF by
LibreOffice where it is installed (CI installs it and sets LEDGER_REQUIRE_LIBREOFFICE=1).

The returns are built once for the module (in a transaction rolled back at the end) and each is
converted to PDF once: LibreOffice takes seconds to start.
"""

import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.db import connection, transaction
from djmoney.money import Money

from grants import money
from grants.demo_fund import demo_fund_create
from grants.exports.files import write_moj_return
from grants.exports.moj_return_control import YEARS_NOT_RECONCILED
from grants.exports.moj_return_print import header_text
from grants.models import Fund, LedgerEntry
from grants.years import FinancialYear, financial_year
from tests.factories import AllocationFactory, FundFactory, OrganisationFactory, user_in_role
from tests.grants.test_moj_return import cents, evaluate

# Marked so that pytest-django creates the test database, which the module's fixture writes in (and
# each test's transaction is checked as usual); without it the fixture would reach the real one.
pytestmark = pytest.mark.django_db

SHEETS = ["Allocations", "Summary", "Reconciliation", "About", "Outturn"]
YEARS = [FinancialYear(2023), FinancialYear(2024), FinancialYear(2025)]
LONG_NAME = (
    "The Very Long Named Community Partnership for Survivors of Domestic Abuse and Sexual Violence (LNCP)"
)


def approved_awarded_sums(fund: Fund) -> dict[FinancialYear | None, Decimal]:
    """The fund's approved award and variation entries summed in Python, in all (key None) and by
    the year each counts in (a reversal in its cancelled entry's)."""
    sums: dict[FinancialYear | None, Decimal] = {None: Decimal("0.00")}
    entries = LedgerEntry.objects.filter(
        allocation__fund=fund, kind__in=LedgerEntry.Kind.awarded_kinds(), approved_at__isnull=False
    ).select_related("reverses")
    for entry in entries:
        year = financial_year((entry.reverses or entry).effective_date)
        sums[None] += entry.amount.amount
        sums[year] = sums.get(year, Decimal("0.00")) + entry.amount.amount
    return sums


@pytest.fixture(scope="module")
def returns(django_db_setup, django_db_blocker, tmp_path_factory):
    """name: (path, the Decimal sums and control totals the Allocations sheet must show)."""
    from django.core.management import call_command

    folder = tmp_path_factory.mktemp("print")
    built = {}
    with django_db_blocker.unblock(), transaction.atomic():
        database = str(connection.settings_dict["NAME"])
        assert "test" in database or "memory" in database, f"{database} is not a test database"
        call_command("loaddata", "moj_extraordinary_covid_fund_2020", verbosity=0)
        seed = Fund.objects.get(code="moj-ecf-2020")
        demo = demo_fund_create(
            recorder=user_in_role("Finance officer", "print-officer"),
            approver=user_in_role("Approver", "print-approver"),
        )
        # A fund whose lines add up to its control total, with names long enough to wrap.
        reconciled = FundFactory(
            code="print-reconciled",
            name=f"{LONG_NAME}: recovery fund & helplines",
            control_total=Money(Decimal("3000.03"), "GBP"),
        )
        for number, amount in enumerate(["1000.01", "999.99", "1000.03"], start=1):
            AllocationFactory(
                fund=reconciled,
                line_number=number,
                organisation=OrganisationFactory(name=f"{LONG_NAME} {number}"),
                service="Independent sexual violence advisers and a helpline open every day of the year",
                amount=Decimal(amount),
            )
        for name, fund, year in [
            ("seed", seed, None),
            ("demo", demo, None),
            ("demo-2023-24", demo, FinancialYear(2023)),
            ("reconciled", reconciled, None),
        ]:
            path = folder / f"{name}.xlsx"
            write_moj_return(fund, path, year=year)
            sums = approved_awarded_sums(fund)
            built[name] = (path, sums, fund.control_total.amount)
        transaction.set_rollback(True)
    return built


def test_header_text_doubles_ampersands_and_cuts_to_its_limit_once_written():
    assert header_text("Smith & Co", 60) == "Smith && Co"
    # "&&G" would still read as a picture placeholder ("&G"): a space keeps them apart.
    assert header_text("B&G Foods", 60) == "B&& G Foods"
    assert header_text("A" * 30, 10) == "AAAAAAAAA…"
    assert header_text("&" * 30, 10) == "&&&&&&&&…"
    assert all(len(header_text(text, 10)) <= 10 for text in ["&" * 30, "A&" * 20, "x" * 11])


def sheets(returns):
    return [(name, sheet) for name, (path, _, _) in returns.items() for sheet in openpyxl.load_workbook(path)]


def test_every_sheet_of_every_return_prints_on_a4_landscape_one_page_wide(returns):
    read = sheets(returns)
    assert len(read) == 4 * len(SHEETS)
    for name, sheet in read:
        where = f"{name}: {sheet.title}"
        assert sheet.page_setup.orientation == "landscape", where
        assert sheet.page_setup.paperSize == 9, where  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, where
        # fitToWidth is left out of the file when it is 1, the format's default.
        assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0), where
        assert (sheet.page_margins.left, sheet.page_margins.top, sheet.page_margins.header) == (
            0.5,
            0.6,
            0.25,
        ), where
        assert sheet.oddHeader.right.text.startswith(f"{sheet.title}: MoJ return "), where
        assert sheet.oddFooter.right.text == "Page &P of &N", where


def test_the_header_names_the_fund_and_the_sheet_cut_to_fit_excels_limit(returns):
    path, _, _ = returns["reconciled"]
    sheet = openpyxl.load_workbook(path)["Reconciliation"]
    # A long name is cut, so the header stays within Excel's 255 characters (a longer one is left out).
    assert sheet.oddHeader.left.text == f"{LONG_NAME[:89]}…"
    assert sheet.oddHeader.right.text == "Reconciliation: MoJ return print-reconciled"
    seed = openpyxl.load_workbook(returns["seed"][0])["About"]
    assert (
        seed.oddHeader.left.text == "Extraordinary Covid Fund for domestic abuse and sexual violence services"
    )
    assert seed.oddFooter.left.text.startswith("Office of the Police and Crime Commissioner. Prepared ")


def test_the_allocations_sheet_repeats_its_header_row_on_every_page(returns):
    for path, _, _ in returns.values():
        sheet = openpyxl.load_workbook(path)["Allocations"]
        assert sheet.print_title_rows == "$7:$7"
        headers = [cell for cell in sheet[7] if cell.value]
        # Every heading wraps rather than running into the next, and the text ones are indented
        # clear of a right-aligned figure's heading before them.
        assert all(cell.alignment.wrap_text for cell in headers)
        assert all(cell.alignment.indent >= 1 for cell in headers if cell.alignment.horizontal != "right")
        assert sheet.row_dimensions[7].height == 30


def test_sentences_wrap_in_rows_tall_enough_and_stay_beside_their_labels(returns):
    for name, (path, _, _) in returns.items():
        workbook = openpyxl.load_workbook(path)
        reconciliation = workbook["Reconciliation"]
        assert (reconciliation["A6"].value, reconciliation["B6"].alignment.wrap_text) == ("Status", True), (
            name
        )
        assert "B6:D6" in {str(cells) for cells in reconciliation.merged_cells.ranges}, name
        widths = sum(width_of(reconciliation, column) for column in (2, 3, 4))
        # A sentence of a six-figure variance on one line; a longer one wraps in a taller row.
        assert widths > len("The allocations come to £999,999.99 more than the control total.") + 2
        sentence = openpyxl.load_workbook(path, data_only=True)["Reconciliation"]["B6"].value
        lines = -(-len(sentence) // (widths - 2))
        assert (reconciliation.row_dimensions[6].height or 15) >= 15 * lines, name

        about = workbook["About"]
        row = next(row for row in about.iter_rows(min_row=3) if row[0].value == "How the SHA-256 is made")
        explanation = row[1]
        assert explanation.alignment.wrap_text and explanation.alignment.vertical == "top", name
        lines = -(-len(explanation.value) // (about.column_dimensions["B"].width - 2))
        # As tall as its lines: it does not run over the next row.
        assert about.row_dimensions[row[0].row].height >= 15 * lines >= 45, name
        assert about.column_dimensions["A"].width + about.column_dimensions["B"].width <= 120

        outturn = workbook["Outturn"]
        assert outturn["A2"].value.startswith("Each figure counts") and outturn["A2"].alignment.wrap_text
        assert str(next(iter(outturn.merged_cells.ranges))).startswith("A2:")
        assert outturn.row_dimensions[2].height >= 30
        assert outturn.column_dimensions["A"].width >= len(
            "Cash held (received less net spend and returns to the funder)"
        )


def test_each_sheets_title_wraps_across_its_columns_in_a_row_tall_enough(returns):
    for name, sheet in sheets(returns):
        where = f"{name}: {sheet.title}"
        title = sheet["A1"]
        assert title.alignment.wrap_text and title.font.sz == 14, where
        merged = {str(cells) for cells in sheet.merged_cells.ranges}
        last = max(dimension.max for dimension in sheet.column_dimensions.values())
        assert f"A1:{openpyxl.utils.get_column_letter(last)}1" in merged, where
        width = sum(width_of(sheet, column) for column in range(1, last + 1))
        lines = -(-len(title.value) // (width * 11 / 14 - 2))
        assert sheet.row_dimensions[1].height >= 21 * lines, where
    # The reconciling fund's long name takes two lines on the narrower sheets.
    reconciliation = openpyxl.load_workbook(returns["reconciled"][0])["Reconciliation"]
    assert reconciliation.row_dimensions[1].height == 42


def width_of(sheet, column: int) -> float:
    """A column's width as set, reading the ranges openpyxl groups columns of one width into."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min <= column <= dimension.max:
            return dimension.width
    raise AssertionError(f"column {column} of {sheet.title} has no width set")


def control_rows(sheet) -> dict[str, int]:
    """The rows under the Total, by their label in column B."""
    total = next(row[0].row for row in sheet.iter_rows(min_row=8) if row[1].value == "Total")
    labels = {sheet.cell(row, 2).value: row for row in range(total, total + 4)}
    return {"Total": total, **{label.split(" ")[0]: row for label, row in labels.items() if label}}


def test_the_seed_returns_allocations_show_the_control_total_and_a_variance_of_29p_over(returns):
    path, sums, control_total = returns["seed"]
    sheet = openpyxl.load_workbook(path)["Allocations"]
    rows = control_rows(sheet)
    assert rows == {"Total": 24, "Control": 25, "Variance": 26, "Status": 27}
    assert (sheet["B25"].value, sheet["E25"].value) == ("Control total", "=$F$5")
    assert (sheet["B26"].value, sheet["E26"].value) == (
        "Variance (ledger minus control)",
        "=ROUND(E24-E25,2)",
    )
    assert sheet["C27"].value.startswith("=IF(E26=0,") and sheet["C27"].alignment.wrap_text
    assert "C27:F27" in {str(cells) for cells in sheet.merged_cells.ranges}

    values = evaluate(path)
    assert cents(values["ALLOCATIONS!E24"]) == sums[None] == Decimal("738810.82")
    assert cents(values["ALLOCATIONS!E25"]) == control_total == Decimal("738810.53")
    assert cents(values["ALLOCATIONS!E26"]) == money.quantize(sums[None] - control_total) == Decimal("0.29")
    assert cents(values["ALLOCATIONS!E26"]) == cents(values["RECONCILIATION!B5"])  # one sign convention
    # The `formulas` package writes TEXT(0.29,"£#,##0.00") as "£0,.29" (Excel and LibreOffice as
    # "£0.29"), so the recomputed sentence is held to the Reconciliation sheet's, and the cached one,
    # which Excel shows until it recalculates, to the words.
    assert values["ALLOCATIONS!C27"] == values["RECONCILIATION!B6"]
    assert values["ALLOCATIONS!C27"].endswith(".29 more than the control total.")
    cached = openpyxl.load_workbook(path, data_only=True)["Allocations"]
    assert (cents(cached["E25"].value), cents(cached["E26"].value)) == (control_total, Decimal("0.29"))
    assert cached["C27"].value == "The allocations come to £0.29 more than the control total."


def flagged_ranges(sheet) -> dict[str, list]:
    return {
        str(rule_range.sqref): rules for rule_range, rules in sheet.conditional_formatting._cf_rules.items()
    }


def test_a_variance_that_is_not_nil_is_flagged(returns):
    sheet = openpyxl.load_workbook(returns["seed"][0])["Allocations"]
    flagged = flagged_ranges(sheet)
    (variance_rule,) = flagged["E26"]
    assert (variance_rule.type, variance_rule.operator, variance_rule.formula) == (
        "cellIs",
        "notEqual",
        ["0"],
    )
    assert variance_rule.dxf.fill.fgColor.rgb.endswith(
        "FFC7CE"
    ) or variance_rule.dxf.fill.bgColor.rgb.endswith("FFC7CE")
    (status_rule,) = flagged["C27:F27"]
    assert (status_rule.type, status_rule.formula) == ("expression", ["OR($E$26<>0)"])


def test_a_reconciling_funds_allocations_show_a_nil_variance_recomputed(returns):
    path, sums, control_total = returns["reconciled"]
    assert sums[None] == control_total == Decimal("3000.03")
    values = evaluate(path)
    rows = control_rows(openpyxl.load_workbook(path)["Allocations"])
    assert rows == {"Total": 11, "Control": 12, "Variance": 13, "Status": 14}
    assert cents(values["ALLOCATIONS!E11"]) == sums[None]
    assert cents(values["ALLOCATIONS!E12"]) == control_total
    assert cents(values["ALLOCATIONS!E13"]) == Decimal("0.00")
    assert values["ALLOCATIONS!C14"] == "The allocations add up exactly to the control total."
    # A long name or service wraps, in a row tall enough for it, instead of being cut by the next
    # column; a line whose texts fit keeps the default height.
    sheet = openpyxl.load_workbook(path)["Allocations"]
    assert sheet["B8"].value == f"{LONG_NAME} 1" and sheet["B8"].alignment.wrap_text
    assert sheet["C8"].alignment.wrap_text and sheet["D8"].alignment.wrap_text
    service_lines = -(-len(sheet["C8"].value) // (width_of(sheet, 3) - 2))
    assert sheet.row_dimensions[8].height >= 15 * service_lines >= 45
    seed = openpyxl.load_workbook(returns["seed"][0])["Allocations"]
    heights = {seed.cell(row, 2).value: seed.row_dimensions[row].height for row in range(8, 24)}
    assert heights["Black Country Women's Aid (BCWA)"] is None
    assert heights["Forced Marriage Helpine (Forced Marriage consortia)"] == 30


def test_a_profiled_funds_allocations_show_each_years_control_total_and_variance_recomputed(returns):
    path, sums, control_total = returns["demo"]
    sheet = openpyxl.load_workbook(path)["Allocations"]
    rows = control_rows(sheet)
    total, control, variance, status = rows["Total"], rows["Control"], rows["Variance"], rows["Status"]
    assert (control, variance, status) == (total + 1, total + 2, total + 3)
    # Each year's control total is the Outturn sheet's (the funder's figure with carry-forwards).
    assert [sheet.cell(control, column).value for column in (5, 6, 7, 8)] == [
        "=Outturn!$B$9",
        "=Outturn!$C$9",
        "=Outturn!$D$9",
        "=$F$5",
    ]
    values = evaluate(path)
    year_controls = [Decimal("245000.00"), Decimal("245000.00"), Decimal("230000.00")]
    for column, year, year_control in zip("EFG", YEARS, year_controls, strict=True):
        assert cents(values[f"ALLOCATIONS!{column}{total}"]) == sums[year], year
        assert cents(values[f"ALLOCATIONS!{column}{control}"]) == year_control, year
        assert cents(values[f"ALLOCATIONS!{column}{variance}"]) == money.quantize(sums[year] - year_control)
    assert sum(year_controls) == control_total == Decimal("720000.00")
    assert cents(values[f"ALLOCATIONS!H{total}"]) == sums[None] == Decimal("672668.51")
    assert cents(values[f"ALLOCATIONS!H{variance}"]) == Decimal("-47331.49") == sums[None] - control_total
    assert values[f"ALLOCATIONS!C{status}"] == (
        "The allocations come to £47,331.49 less than the control total." + YEARS_NOT_RECONCILED
    )
    cached = openpyxl.load_workbook(path, data_only=True)["Allocations"]
    assert cached.cell(status, 3).value == values[f"ALLOCATIONS!C{status}"]
    assert [cents(cached.cell(variance, column).value) for column in (5, 6, 7, 8)] == [
        cents(values[f"ALLOCATIONS!{column}{variance}"]) for column in "EFGH"
    ]
    assert f"E{variance}:H{variance}" in flagged_ranges(sheet)


def test_a_years_return_that_reconciles_says_so_under_its_total(returns):
    path, sums, _ = returns["demo-2023-24"]
    values = evaluate(path)
    rows = control_rows(openpyxl.load_workbook(path)["Allocations"])
    assert cents(values[f"ALLOCATIONS!E{rows['Total']}"]) == sums[FinancialYear(2023)] == Decimal("245000.00")
    assert cents(values[f"ALLOCATIONS!E{rows['Control']}"]) == Decimal("245000.00")
    assert cents(values[f"ALLOCATIONS!E{rows['Variance']}"]) == Decimal("0.00")
    assert values[f"ALLOCATIONS!C{rows['Status']}"] == "The allocations add up exactly to the control total."
    assert (
        openpyxl.load_workbook(path)["Allocations"].cell(rows["Control"], 2).value == "Control total 2023-24"
    )


# Printed by LibreOffice -----------------------------------------------------------------------------


def soffice() -> str:
    found = shutil.which("soffice")
    if found:
        return found
    if os.environ.get("LEDGER_REQUIRE_LIBREOFFICE") == "1":
        pytest.fail(
            "LEDGER_REQUIRE_LIBREOFFICE=1 but soffice is not on PATH: apt-get install libreoffice-calc-nogui"
        )
    pytest.skip(
        "LibreOffice (soffice) is not installed, so the return is not printed to PDF here: "
        "apt-get install libreoffice-calc-nogui to check its pages"
    )


@pytest.fixture(scope="module")
def pdfs(returns, tmp_path_factory) -> dict[str, bytes]:
    """Each return printed to PDF by LibreOffice, all in one run, with a profile of its own so that
    parallel runs do not share (and lock) one."""
    program = soffice()
    folder = tmp_path_factory.mktemp("pdf")
    profile = (folder / "profile").as_uri()
    paths = [str(path) for path, _, _ in returns.values()]
    subprocess.run(
        [
            program,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            *paths,
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    return {name: (folder / f"{Path(path).stem}.pdf").read_bytes() for name, (path, _, _) in returns.items()}


PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]")


@pytest.mark.parametrize("name", ["seed", "demo", "demo-2023-24", "reconciled"])
def test_each_sheet_prints_on_one_a4_landscape_page(pdfs, name):
    pdf = pdfs[name]
    # Five sheets on five pages: every sheet one page wide and (these being short) one page tall, so
    # no sentence, and no label and its value, are split between pages.
    pages = len(PAGE.findall(pdf))
    assert pages == len(SHEETS)
    boxes = {(round(float(width)), round(float(height))) for width, height in MEDIA_BOX.findall(pdf)}
    assert boxes == {(842, 595)}  # A4 landscape, in points
