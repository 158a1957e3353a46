"""The outturn, by financial year and in total: on the MoJ return's Outturn sheet (read back and
every formula recomputed), on the years page, and in the return for one year."""

import datetime
import hashlib
import json
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from grants import money, services
from grants.demo_fund import DEMO_FUND_CODE, demo_fund_create
from grants.exports import moj_return_data as data_module
from grants.exports.files import write_moj_return
from grants.models import Allocation, LedgerEntry
from grants.reconciliation import outturn as outturn_module
from grants.reconciliation import reconcile
from grants.reconciliation.outturn import FIGURES, Outturn, fund_outturn
from grants.reconciliation.years import reconcile_by_year
from grants.years import FinancialYear, financial_year
from tests.factories import approve_pending
from tests.grants.test_moj_return import cents, evaluate

Kind = LedgerEntry.Kind
YEARS = [FinancialYear(2023), FinancialYear(2024), FinancialYear(2025)]
PROFILE = {"2023-24": Decimal("250000.00"), "2024-25": Decimal("240000.00"), "2025-26": Decimal("230000.00")}


def gbp(text) -> Money:
    return Money(Decimal(text), "GBP")


# The figures without the database ----------------------------------------------------------------


def test_net_spend_and_the_balance_to_return_are_worked_out_from_the_recorded_figures():
    outturn = Outturn(
        label="2024-25",
        awarded=gbp("1000.00"),
        carried_in=gbp("30.00"),
        carried_out=gbp("10.00"),
        allocated=gbp("990.00"),
        received=gbp("1000.00"),
        paid=gbp("900.10"),
        underspend_returned=gbp("50.05"),
        returned_to_funder=gbp("20.00"),
        underspend_due_at_start=gbp("7.00"),
        underspend_due=gbp("12.50"),
    )
    assert outturn.control_total == gbp("1020.00")
    assert outturn.net_spend == gbp("850.05")
    assert outturn.cash_held == gbp("129.95")
    # 1,020.00 - 850.05 + (12.50 - 7.00) - 20.00
    assert outturn.balance_to_return == gbp("155.45")
    assert [figure.name for figure, _ in outturn.rows] == [
        "awarded",
        "carried_in",
        "carried_out",
        "control_total",
        "allocated",
        "received",
        "paid",
        "underspend_returned",
        "net_spend",
        "returned_to_funder",
        "cash_held",
        "underspend_due_at_start",
        "underspend_due",
        "balance_to_return",
    ]
    assert outturn.as_dict()["balance_to_return"] == "155.45"


def test_a_total_adds_up_money_that_moved_and_takes_balances_from_the_first_and_last_years():
    def year(label, due_at_start, due, paid):
        return Outturn(
            label=label,
            awarded=gbp("100.00"),
            allocated=gbp("100.00"),
            paid=gbp(paid),
            underspend_returned=gbp("0.00"),
            returned_to_funder=gbp("0.00"),
            underspend_due_at_start=gbp(due_at_start),
            underspend_due=gbp(due),
        )

    first, second = year("2023-24", "0.00", "8.00", "100.00"), year("2024-25", "8.00", "3.00", "90.00")
    total = outturn_module._added("Total", [first, second], gbp("200.00"))
    assert (total.underspend_due_at_start, total.underspend_due, total.paid) == (
        gbp("0.00"),
        gbp("3.00"),
        gbp("190.00"),
    )
    # The years' balances add up to the whole fund's: underspend still due is counted once.
    assert total.balance_to_return == money.total([first.balance_to_return, second.balance_to_return])
    assert total.balance_to_return == gbp("13.00")


def test_a_derived_figure_is_made_only_of_figures_listed_before_it():
    """The sheet writes a derived row as a formula of rows above it, so a new figure slots in."""
    seen = set()
    for figure in FIGURES:
        assert {term for term, _ in figure.terms} <= seen, figure.name
        seen.add(figure.name)


# The demo fund: three years --------------------------------------------------------------------


@pytest.fixture
def demo_fund(seed_fund, officer, approver):
    """The synthetic three-year fund of `make run`, beside the seed fund whose reference data it uses."""
    return demo_fund_create(recorder=officer, approver=approver)


def entry_year(entry) -> FinancialYear:
    """The year an entry counts in, worked out in Python: a reversal in its cancelled entry's."""
    return financial_year((entry.reverses or entry).effective_date)


def approved_entries(fund):
    return [
        entry
        for entry in LedgerEntry.objects.filter(fund=fund).select_related("reverses", "allocation")
        if entry.approved_at is not None and entry.rejected_at is None
    ]


def decimal_sums(fund) -> dict[str, dict[FinancialYear, Decimal]]:
    """Each figure of the outturn that money moving in a year makes, by year, summed in Python from
    the approved entries: a line's awards, variations and carry-forwards are allocated; the fund's own
    carry-forwards move its control total."""
    sums = {name: dict.fromkeys(YEARS, Decimal("0.00")) for name in FLOWS}
    for entry in approved_entries(fund):
        amount, year = entry.amount.amount, entry_year(entry)
        if entry.kind in Kind.awarded_kinds() and entry.allocation_id is not None:
            sums["allocated"][year] += amount
        elif entry.kind == Kind.CARRIED_FORWARD:
            sums["carried_in" if amount > 0 else "carried_out"][year] += abs(amount)
        elif entry.kind in KIND_OF_FLOW:
            sums[KIND_OF_FLOW[entry.kind]][year] += amount
    return sums


KIND_OF_FLOW = {
    Kind.PAYMENT: "paid",
    Kind.UNDERSPEND_RETURNED: "underspend_returned",
    Kind.RETURNED_TO_FUNDER: "returned_to_funder",
    Kind.RECEIVED_FROM_FUNDER: "received",
}
FLOWS = ("carried_in", "carried_out", "allocated", "received", *KIND_OF_FLOW.values())


def underspend_due_at_end(fund, year: FinancialYear) -> Decimal:
    """What providers still owe at the end of `year`: each line's underspend declared due up to then
    less what it returned up to then, never below nothing, added up over the lines."""
    lines: dict[int, Decimal] = {}
    for entry in approved_entries(fund):
        if entry.kind in (Kind.UNDERSPEND_DUE, Kind.UNDERSPEND_RETURNED) and entry_year(entry) <= year:
            sign = 1 if entry.kind == Kind.UNDERSPEND_DUE else -1
            lines[entry.allocation_id] = (
                lines.get(entry.allocation_id, Decimal("0.00")) + sign * entry.amount.amount
            )
    return sum((max(owed, Decimal("0.00")) for owed in lines.values()), Decimal("0.00"))


def line_year_sums(fund) -> dict[int, dict[FinancialYear, Decimal]]:
    lines: dict[int, dict[FinancialYear, Decimal]] = {}
    for entry in approved_entries(fund):
        if entry.kind in Kind.awarded_kinds() and entry.allocation_id is not None:
            by_year = lines.setdefault(entry.allocation.line_number, {})
            year = entry_year(entry)
            by_year[year] = by_year.get(year, Decimal("0.00")) + entry.amount.amount
    return lines


def expected_columns(fund) -> dict[str, dict[str, Decimal]]:
    """Every row of every column of the outturn, from the Decimal sums and the profile."""
    sums = decimal_sums(fund)
    columns, due_at_start = {}, Decimal("0.00")
    for year in YEARS:
        due = underspend_due_at_end(fund, year)
        columns[year.label] = {
            "awarded": PROFILE[year.label],
            **{name: sums[name][year] for name in FLOWS},
            "underspend_due_at_start": due_at_start,
            "underspend_due": due,
        }
        due_at_start = due
    years = list(columns.values())
    columns["Total"] = {name: sum(column[name] for column in years) for name in ("awarded", *FLOWS)}
    columns["Total"] |= {
        "underspend_due_at_start": Decimal("0.00"),
        "underspend_due": years[-1]["underspend_due"],
    }
    for column in columns.values():
        column["control_total"] = column["awarded"] + column["carried_in"] - column["carried_out"]
        column["net_spend"] = column["paid"] - column["underspend_returned"]
        column["cash_held"] = column["received"] - column["net_spend"] - column["returned_to_funder"]
        column["balance_to_return"] = (
            column["control_total"]
            - column["net_spend"]
            + column["underspend_due"]
            - column["underspend_due_at_start"]
            - column["returned_to_funder"]
        )
    return columns


def test_the_demo_funds_outturn_by_year_and_in_total_is_the_decimal_sums_of_its_entries(demo_fund):
    outturn = fund_outturn(
        reconcile_by_year(demo_fund), demo_fund.control_total, demo_fund.spend_start, demo_fund.spend_end
    )
    assert [column.label for column in outturn.columns] == ["2023-24", "2024-25", "2025-26", "Total"]
    expected = expected_columns(demo_fund)
    for column in outturn.columns:
        assert {figure.name: column.figure(figure.name).amount for figure in FIGURES} == expected[
            column.label
        ]
    # Written out, so a change to the demo data or the arithmetic shows here.
    total = outturn.total
    assert (total.control_total, total.allocated) == (gbp("720000.00"), gbp("672668.51"))
    assert total.returned_to_funder == gbp("1234.56")
    assert total.balance_to_return == money_of(expected["Total"]["balance_to_return"])
    assert total.control_total == demo_fund.control_total


def money_of(amount: Decimal) -> Money:
    return Money(amount, "GBP")


def test_the_outturn_takes_no_queries_beyond_reconcile_by_year(demo_fund, django_assert_num_queries):
    by_year = reconcile_by_year(demo_fund)
    with django_assert_num_queries(0):
        outturn = fund_outturn(by_year, demo_fund.control_total, demo_fund.spend_start, demo_fund.spend_end)
        outturn.rows  # noqa: B018  (every figure of every column worked out)


def formula_cells(path):
    """(sheet, coordinate, formula, cached value) of every formula in the workbook."""
    formulas_book = openpyxl.load_workbook(path)
    values_book = openpyxl.load_workbook(path, data_only=True)
    for sheet in formulas_book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    yield (
                        sheet.title,
                        cell.coordinate,
                        cell.value,
                        values_book[sheet.title][cell.coordinate].value,
                    )


def assert_every_formula_recomputes_to_its_cached_value(path) -> int:
    recomputed = evaluate(path)
    count = 0
    for sheet, coordinate, formula, cached in formula_cells(path):
        value = recomputed[f"{sheet.upper()}!{coordinate}"]
        if isinstance(cached, str):
            # The `formulas` package writes TEXT(x,"£#,##0.00") as "£0,.29"; Excel does not.
            if "TEXT(" not in formula:
                assert value == cached, (sheet, coordinate, formula)
        else:
            assert cents(value) == cents(cached), (sheet, coordinate, formula)
        count += 1
    return count


def read_outturn(sheet) -> dict[str, dict[str, Decimal]]:
    labels = {figure.label: figure.name for figure in FIGURES}
    headers = [cell.value for cell in sheet[4]]
    columns = {header: {} for header in headers[1:] if header}
    for row in sheet.iter_rows(min_row=6):
        name = labels.get(row[0].value)
        if name:
            for header, cell in zip(headers[1:], row[1:], strict=False):
                if header:
                    columns[header][name] = cents(cell.value)
    return columns


def self_check(sheet) -> dict[str, Decimal]:
    start = next(row[0].row for row in sheet.iter_rows() if row[0].value == "Self-check")
    return {
        row[0].value: cents(row[1].value)
        for row in sheet.iter_rows(min_row=start + 1)
        if row[0].value is not None
    }


def test_the_demo_funds_return_has_a_column_per_year_and_an_outturn_to_the_penny(demo_fund, tmp_path):
    path = tmp_path / "return.xlsx"
    write_moj_return(demo_fund, path)
    assert assert_every_formula_recomputes_to_its_cached_value(path) > 30
    workbook = openpyxl.load_workbook(path, data_only=True)
    assert workbook.sheetnames == ["Allocations", "Summary", "Reconciliation", "About", "Outturn"]

    allocations = workbook["Allocations"]
    assert [cell.value for cell in allocations[7]] == [
        "No.",
        "Organisation",
        "Service",
        "Thematic area",
        "2023-24 (£)",
        "2024-25 (£)",
        "2025-26 (£)",
        "Total (£)",
        "Extraordinary funding category",
    ]
    lines = line_year_sums(demo_fund)
    rows = list(allocations.iter_rows(min_row=8, max_row=7 + len(lines)))
    for row in rows:
        by_year = lines[row[0].value]
        assert [cents(cell.value) if cell.value is not None else None for cell in row[4:7]] == [
            by_year.get(year) for year in YEARS
        ], row[0].value
        assert cents(row[7].value) == sum(by_year.values())
    total_row = allocations[8 + len(lines)]
    assert total_row[1].value == "Total"
    sums = decimal_sums(demo_fund)
    assert [cents(cell.value) for cell in total_row[4:7]] == [sums["allocated"][year] for year in YEARS]
    assert cents(total_row[7].value) == reconcile(demo_fund).ledger_total.amount == Decimal("672668.51")

    formulas = openpyxl.load_workbook(path)["Allocations"]
    assert formulas["H8"].value == "=SUM(E8:G8)"
    assert formulas[f"E{8 + len(lines)}"].value == f"=SUM(E8:E{7 + len(lines)})"
    assert formulas["A7"].value == "No." and formulas.auto_filter.ref == f"A7:I{7 + len(lines)}"

    assert read_outturn(workbook["Outturn"]) == expected_columns(demo_fund)
    checks = self_check(workbook["Outturn"])
    assert len(checks) == 5 and set(checks.values()) == {Decimal("0.00")}
    outturn_formulas = openpyxl.load_workbook(path)["Outturn"]
    assert outturn_formulas["B9"].value == "=ROUND(B6+B7-B8,2)"  # control total
    assert outturn_formulas["B14"].value == "=ROUND(B12-B13,2)"  # net spend
    assert outturn_formulas["B19"].value == "=ROUND(B9-B14+B18-B17-B15,2)"  # balance to return
    assert outturn_formulas["E19"].value == "=ROUND(SUM(B19:D19),2)"
    # Underspend still due is a balance: the total's is the first year's at the start, the last's at the end.
    assert (outturn_formulas["E17"].value, outturn_formulas["E18"].value) == (
        "=ROUND(B17,2)",
        "=ROUND(D18,2)",
    )


def test_a_reversal_counts_in_the_year_of_the_entry_it_cancels_on_the_return(demo_fund, tmp_path, approver):
    variation = LedgerEntry.objects.get(
        allocation__fund=demo_fund, allocation__line_number=5, kind=Kind.VARIATION, effective_date__year=2024
    )
    services.entry_reverse(entry=variation, memo="Recorded twice", acting_user=approver)
    approve_pending(reverses=variation)
    reversal = LedgerEntry.objects.get(reverses=variation)
    assert financial_year(reversal.effective_date) != financial_year(variation.effective_date)
    path = tmp_path / "return.xlsx"
    write_moj_return(demo_fund, path)
    assert_every_formula_recomputes_to_its_cached_value(path)
    workbook = openpyxl.load_workbook(path, data_only=True)
    assert read_outturn(workbook["Outturn"]) == expected_columns(demo_fund)
    row = next(row for row in workbook["Allocations"].iter_rows(min_row=8) if row[0].value == 5)
    assert cents(row[5].value) == Decimal("0.00")


def test_the_return_for_one_year_shows_that_years_lines_and_control_total_only(demo_fund, tmp_path, capsys):
    call_command("export_moj_return", DEMO_FUND_CODE, "--year", "2024/25", "-o", str(tmp_path / "y.xlsx"))
    assert "Wrote " in capsys.readouterr().out
    path = tmp_path / "y.xlsx"
    assert_every_formula_recomputes_to_its_cached_value(path)
    workbook = openpyxl.load_workbook(path, data_only=True)
    year = FinancialYear(2024)
    assert workbook.properties.title.startswith("MoJ return 2024-25: ")
    allocations = workbook["Allocations"]
    assert allocations["A1"].value.endswith(", 2024-25")
    assert (allocations["E5"].value, allocations["F5"].value) == ("Control total 2024-25", 245000)
    assert allocations["E7"].value == "Amount 2024-25 (£)"
    lines = {
        number: by_year[year] for number, by_year in line_year_sums(demo_fund).items() if year in by_year
    }
    written = {
        row[0].value: cents(row[4].value)
        for row in allocations.iter_rows(min_row=8)
        if isinstance(row[0].value, int)
    }
    assert written == lines
    total = next(row for row in allocations.iter_rows(min_row=8) if row[1].value == "Total")
    assert cents(total[4].value) == sum(lines.values()) == decimal_sums(demo_fund)["allocated"][year]
    reconciliation = workbook["Reconciliation"]
    # 2024-25's £240,000.00 with the £5,000.00 the funder agreed to carry forward from 2023-24, and its
    # lines' amounts with line 3's £5,000.00 carried forward into it.
    assert cents(reconciliation["B3"].value) == Decimal("245000.00")
    assert cents(reconciliation["B4"].value) == Decimal("240957.03")
    assert reconciliation["B7"].value == "under-allocated"
    assert read_outturn(workbook["Outturn"]) == {"2024-25": expected_columns(demo_fund)["2024-25"]}
    assert set(self_check(workbook["Outturn"]).values()) == {Decimal("0.00")}


def test_the_download_takes_a_year_and_names_the_file_with_it(client, officer, demo_fund):
    client.force_login(officer)
    response = client.get(reverse("grants:fund_moj_return", args=[DEMO_FUND_CODE]), {"year": "2023-24"})
    assert response.status_code == 200
    name = f"MoJ-return_{DEMO_FUND_CODE}_2023-24_{timezone.localdate().isoformat()}.xlsx"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    body = b"".join(response.streaming_content)
    import io

    sheet = openpyxl.load_workbook(io.BytesIO(body), data_only=True)["Reconciliation"]
    assert cents(sheet["B3"].value) == cents(sheet["B4"].value) == Decimal("245000.00")


@pytest.mark.parametrize(
    ("code", "year", "message"),
    [
        (
            DEMO_FUND_CODE,
            "2026-27",
            f"year: 2026-27 is not in {DEMO_FUND_CODE}'s profile, so the funder awarded nothing for it; "
            "its years are 2023-24, 2024-25 and 2025-26.",
        ),
        (DEMO_FUND_CODE, "2023-25", "year: '2023-25' is not a financial year: the second year must follow"),
        (
            "moj-ecf-2020",
            "2020-21",
            "year: moj-ecf-2020 has no profile by financial year, only one control total for its whole "
            "spend period, so its return is for the whole fund; leave the year out.",
        ),
    ],
)
def test_a_year_not_in_the_profile_is_refused_by_the_download_and_the_command(
    client, officer, demo_fund, seed_fund, tmp_path, code, year, message
):
    client.force_login(officer)
    response = client.get(reverse("grants:fund_moj_return", args=[code]), {"year": year})
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    with pytest.raises(CommandError) as error:
        call_command("export_moj_return", code, "--year", year, "-o", str(tmp_path / "out.xlsx"))
    assert error.value.returncode == 2
    assert str(error.value).startswith(message)
    assert list(tmp_path.iterdir()) == []


def test_a_year_return_needs_a_login(client, demo_fund):
    url = reverse("grants:fund_moj_return", args=[DEMO_FUND_CODE])
    response = client.get(url, {"year": "2023-24"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_profiled_return_takes_the_same_number_of_queries_whatever_the_fund_size(
    demo_fund, tmp_path, officer, django_assert_max_num_queries
):
    counts = []
    for extra in (0, 20):
        for n in range(1, extra + 1):
            line = Allocation.objects.filter(fund=demo_fund).order_by("line_number").first()
            services.allocation_create(
                fund=demo_fund,
                line_number=100 + n,
                memo="More lines",
                service=f"Extra {n}",
                organisation=line.organisation,
                thematic_area=line.thematic_area,
                funding_category=line.funding_category,
                amount=Decimal("1.00") + n,
                acting_user=officer,
            )
        approve_pending(fund=demo_fund)
        with django_assert_max_num_queries(15) as captured:
            write_moj_return(demo_fund, tmp_path / f"{extra}.xlsx")
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


# The seed fund: one column, and its other sheets as they were -------------------------------------


# SHA-256 of every filled cell of the seed fund's first four sheets (its coordinate, its value or
# formula, its cached result and its number format, as openpyxl reads them) as the return wrote them
# before it was laid out for print (commit 06ef21f), built at a fixed moment by a fixed preparer.
# Laying the return out for print changed the sheets' bytes (page setup, row heights, merged cells,
# formats) but must not change a figure, a formula or a word: the same cells hash the same. The
# rows under the Allocations sheet's Total (control total, variance, status), added for print, are
# left out here and checked in tests/grants/test_moj_return_print.py.
SEED_CELLS_SHA256 = "5a77b3fa43eb229ed1408a93da6900ef7383dc9b58426370a70ae0d02c93150f"
SEED_TOTAL_ROW = 24


def seed_cells(path) -> list[list[str]]:
    formulas, cached = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    cells = []
    for name in ("Allocations", "Summary", "Reconciliation", "About"):
        for row in formulas[name].iter_rows():
            for cell in row:
                if cell.value is None or (name == "Allocations" and cell.row > SEED_TOTAL_ROW):
                    continue
                value = cached[name][cell.coordinate].value
                cells.append([name, cell.coordinate, repr(cell.value), repr(value), cell.number_format])
    return cells


def test_the_seed_funds_sheets_hold_the_cells_they_held_before_the_outturn_and_the_print_layout(
    seed_fund, tmp_path, monkeypatch
):
    moment = datetime.datetime(2026, 1, 2, 10, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(data_module.timezone, "localtime", lambda *args: moment)
    monkeypatch.setattr(data_module, "product_version", lambda: "1.0")
    monkeypatch.setattr(data_module.getpass, "getuser", lambda: "clerk")
    path = tmp_path / "return.xlsx"
    write_moj_return(seed_fund, path)
    with zipfile.ZipFile(path) as archive:
        assert "xl/worksheets/sheet5.xml" in archive.namelist()
    cells = seed_cells(path)
    assert len(cells) == 164
    assert ["Reconciliation", "B5", "'=ROUND(B4-B3,2)'", "0.29", "£#,##0.00"] in cells
    assert hashlib.sha256(json.dumps(cells).encode()).hexdigest() == SEED_CELLS_SHA256


def test_the_seed_funds_outturn_is_one_column_for_its_spend_period(seed_fund, tmp_path):
    path = tmp_path / "return.xlsx"
    write_moj_return(seed_fund, path)
    assert assert_every_formula_recomputes_to_its_cached_value(path) > 20
    sheet = openpyxl.load_workbook(path, data_only=True)["Outturn"]
    assert (sheet["B4"].value, sheet["B5"].value, sheet["C4"].value) == (
        "Whole spend period",
        "23 March 2020 to 31 October 2020",
        None,
    )
    sums = {name: sum(by_year.values()) for name, by_year in decimal_sums_all_years(seed_fund).items()}
    net_spend = sums["paid"] - sums["underspend_returned"]
    assert read_outturn(sheet) == {
        "Whole spend period": {
            "awarded": Decimal("738810.53"),
            "carried_in": Decimal("0.00"),
            "carried_out": Decimal("0.00"),
            "control_total": Decimal("738810.53"),
            "allocated": Decimal("738810.82"),
            "received": Decimal("0.00"),
            "paid": sums["paid"],
            "underspend_returned": sums["underspend_returned"],
            "net_spend": net_spend,
            "returned_to_funder": sums["returned_to_funder"],
            "cash_held": -net_spend - sums["returned_to_funder"],
            "underspend_due_at_start": Decimal("0.00"),
            "underspend_due": Decimal("0.00"),
            "balance_to_return": Decimal("738810.53") - net_spend - sums["returned_to_funder"],
        }
    }
    assert sums["allocated"] == Decimal("738810.82")
    assert set(self_check(sheet).values()) == {Decimal("0.00")}
    assert len(self_check(sheet)) == 2


def decimal_sums_all_years(fund) -> dict[str, dict]:
    kinds = {
        "allocated": set(Kind.awarded_kinds()),
        "paid": {Kind.PAYMENT},
        "underspend_returned": {Kind.UNDERSPEND_RETURNED},
        "returned_to_funder": {Kind.RETURNED_TO_FUNDER},
    }
    sums: dict[str, dict] = {name: {} for name in kinds}
    for entry in approved_entries(fund):
        for name, of_kind in kinds.items():
            if entry.kind in of_kind:
                year = entry_year(entry)
                sums[name][year] = sums[name].get(year, Decimal("0.00")) + entry.amount.amount
    return sums


def test_an_outturn_that_disagrees_with_the_return_is_refused(seed_fund, tmp_path, monkeypatch):
    from grants.exports import files

    real = data_module.moj_return_data

    def drifted(fund, **kwargs):
        import dataclasses

        data = real(fund, **kwargs)
        whole = dataclasses.replace(data.outturn.years[0], allocated=gbp("1.00"))
        return dataclasses.replace(data, outturn=dataclasses.replace(data.outturn, years=[whole]))

    monkeypatch.setattr(files, "moj_return_data", drifted)
    with pytest.raises(RuntimeError) as error:
        write_moj_return(seed_fund, tmp_path / "return.xlsx")
    assert str(error.value).startswith(
        "The outturn's allocated (£1.00) does not agree with the return's (£738,810.82)."
    )
    assert list(tmp_path.iterdir()) == []


# The years page ---------------------------------------------------------------------------------


def test_the_years_page_shows_the_outturn_with_years_as_columns(client, officer, demo_fund):
    client.force_login(officer)
    response = client.get(reverse("grants:fund_years", args=[DEMO_FUND_CODE]))
    assert response.status_code == 200
    outturn = response.context["years"].outturn
    assert [column.label for column in outturn.columns] == ["2023-24", "2024-25", "2025-26", "Total"]
    html = response.content.decode()
    expected = expected_columns(demo_fund)
    for figure in FIGURES:
        start = html.index(f'id="outturn-{figure.name}"')
        row = html[start : html.index("</tr>", start)]
        shown = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert shown == [money.format_gbp(column[figure.name]) for column in expected.values()], figure.name
    assert f'href="{reverse("grants:fund_moj_return", args=[DEMO_FUND_CODE])}?year=2024-25"' in html


def test_the_years_page_shows_the_seed_funds_outturn_in_one_column(client, viewer, seed_fund):
    client.force_login(viewer)
    response = client.get(reverse("grants:fund_years", args=["moj-ecf-2020"]))
    outturn = response.context["years"].outturn
    assert [column.label for column in outturn.columns] == ["Whole spend period"]
    assert outturn.overall.control_total == gbp("738810.53")
    assert outturn.overall.allocated == gbp("738810.82")
    assert "?year=" not in response.content.decode().split('id="outturn"')[1]


def test_the_years_page_needs_a_login(client, demo_fund):
    response = client.get(reverse("grants:fund_years", args=[DEMO_FUND_CODE]))
    assert response.status_code == 302


def test_the_data_sha256_of_a_return_by_year_covers_each_lines_years_and_each_years_control_total(
    demo_fund, tmp_path, officer, approver
):
    """A carry-forward moves money between years and not the lines' totals: the digest changes
    anyway, since the Allocations sheet's year columns and the years' control totals did."""

    def digest(name):
        path = tmp_path / name
        write_moj_return(demo_fund, path)
        about = openpyxl.load_workbook(path, data_only=True)["About"]
        rows = {row[0].value: row[1].value for row in about.iter_rows() if row[0].value}
        return rows["Data SHA-256"], rows["How the SHA-256 is made"]

    before, explained = digest("before.xlsx")
    line = Allocation.objects.get(fund=demo_fund, line_number=1)
    in_leg = services.carry_forward_line(
        allocation=line,
        from_year=YEARS[1],
        amount="1000.00",
        reference="DEMO-AGREEMENT-9",
        acting_user=officer,
    )
    services.entry_approve(entry=in_leg, acting_user=approver)
    after, _ = digest("after.xlsx")

    assert reconcile(demo_fund).ledger_total.amount == Decimal("672668.51")  # the total did not move
    assert before != after
    assert explained.endswith("each year's control total and each line its amount in each year.")
