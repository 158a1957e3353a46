"""Importing an allocation table by financial year: a column of amounts for each year (as a published
decision has them: "2023/24", "2024/25", "Total"), or a Year column beside one amount column.

Every workbook is synthetic and built here; it goes into a synthetic three-year fund beside the seed
fund, mapped to the seed's reference data. A line's amount for a year is its award and variations
dated in that year (`grants.reconciliation.years`), so each figure is checked against the ledger's
entries and the reconciliation by year, and against a `Decimal` sum of the file's cells.
"""

import datetime
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grants import money, services
from grants.imports import ImportRefused
from grants.imports.reading import Mapping
from grants.imports.snapshot import import_preview
from grants.models import Allocation, Approval, ImportRecord, LedgerEntry
from grants.reconciliation.years import reconcile_by_year
from grants.years import FinancialYear
from tests.factories import FundFactory, approve_pending
from tests.grants.workbooks import xlsx

D = Decimal
DA, COMMISSIONED = "Domestic Abuse", "DA PCC commissioned"
FY23, FY24, FY25 = FinancialYear(2023), FinancialYear(2024), FinancialYear(2025)
SPEND_START = datetime.date(2023, 6, 1)  # later than 2023-24's start: the first year's awards are dated so

README = Path(__file__).resolve().parents[2] / "README.md"

BY_YEAR_HEADER = ("Organisation", "Thematic area", "Category", "2023/24", "2024-25", "FY 2025/26", "Total")


HARBOUR_2024, VALLEY_2025 = D("2000.20"), D("500.01")


def by_year_rows(harbour_2024=HARBOUR_2024, valley_2025=VALLEY_2025):
    return [
        ("Allocations by year (synthetic)",),
        BY_YEAR_HEADER,
        ("Harbour Refuge", DA, COMMISSIONED, D("1000.10"), harbour_2024, None, D("1000.10") + harbour_2024),
        ("Hillside Helpline", DA, COMMISSIONED, None, D("500.55"), 0, D("500.55")),
        ("Valley Counselling", DA, COMMISSIONED, D("300"), D("400"), valley_2025, D("700") + valley_2025),
    ]


@pytest.fixture
def fund(seed_fund):
    """A synthetic fund of three financial years beside the seed fund, without a profile."""
    return FundFactory(
        code="synthetic-by-year",
        name="Synthetic fund by year",
        spend_start=SPEND_START,
        spend_end=FY25.end,
        control_total=money.gbp("9000.00"),
    )


@pytest.fixture
def profiled(fund, officer):
    services.fund_profile_set(
        fund=fund,
        figures={FY23: "3000.00", FY24: "3000.00", FY25: "3000.00"},
        memo="Synthetic award letter",
        acting_user=officer,
    )
    return fund


def preview(fund, content, **mapping):
    return import_preview(fund, file_name="by-year.xlsx", content=content, mapping=Mapping(**mapping))


def imported(fund, content, user):
    return services.allocations_import(fund=fund, file_name="by-year.xlsx", content=content, acting_user=user)


def problems(plan):
    return [str(problem) for problem in plan.problems]


def entries(fund):
    """(line number, kind, amount, date) of every entry on the fund's lines, in order."""
    return list(
        LedgerEntry.objects.filter(fund=fund)
        .order_by("allocation__line_number", "effective_date", "pk")
        .values_list("allocation__line_number", "kind", "amount", "effective_date")
    )


def allocated_by_year(fund) -> dict[str, Decimal]:
    return {
        year.year.label: year.allocated.amount
        for year in reconcile_by_year(fund, Approval.APPROVED_OR_PENDING)
    }


AWARD, VARIATION = LedgerEntry.Kind.AWARD, LedgerEntry.Kind.VARIATION


def test_year_columns_become_an_award_and_a_variation_for_each_later_year(profiled, officer):
    fund = profiled
    content = xlsx(by_year_rows())
    plan = preview(fund, content)
    assert problems(plan) == []
    assert [(column.letter, column.title) for column in plan.sheet.columns][3:] == [
        ("D", "2023-24 amount"),
        ("E", "2024-25 amount"),
        ("F", "2025-26 amount"),
        ("G", "Total"),
    ]
    assert plan.years == [FY23, FY24, FY25]
    assert [(line.organisation.name, line.by_year, line.amount) for line in plan.lines] == [
        ("Harbour Refuge", [D("1000.10"), D("2000.20"), None], D("3000.30")),
        ("Hillside Helpline", [None, D("500.55"), None], D("500.55")),
        ("Valley Counselling", [D("300"), D("400"), D("500.01")], D("1200.01")),
    ]
    cells = [D("1000.10"), D("2000.20"), D("500.55"), D("300"), D("400"), D("500.01")]
    assert plan.sheet_total == money.gbp(sum(cells))
    assert plan.year_totals == [
        (FY23, money.gbp(D("1000.10") + D("300"))),
        (FY24, money.gbp(D("2000.20") + D("500.55") + D("400"))),
        (FY25, money.gbp(D("500.01"))),
    ]

    result = imported(fund, content, officer)
    assert result.record.lines_added == 3
    assert entries(fund) == [
        # The first year's award at the fund's spend start (1 June 2023, after 1 April); later years
        # at their starts.
        (1, AWARD, D("1000.10"), SPEND_START),
        (1, VARIATION, D("2000.20"), FY24.start),
        (2, AWARD, D("500.55"), FY24.start),
        (3, AWARD, D("300.00"), SPEND_START),
        (3, VARIATION, D("400.00"), FY24.start),
        (3, VARIATION, D("500.01"), FY25.start),
    ]
    assert LedgerEntry.objects.pending().filter(fund=fund).count() == 6
    assert allocated_by_year(fund) == {
        "2023-24": D("1000.10") + D("300"),
        "2024-25": D("2000.20") + D("500.55") + D("400"),
        "2025-26": D("500.01"),
    }

    # The same file again changes nothing.
    again = imported(fund, content, officer)
    assert again.record is None
    assert [line.action for line in again.plan.lines] == ["unchanged"] * 3
    assert len(entries(fund)) == 6

    # A changed year amount is a variation for the difference, dated in its year; an emptied year
    # takes the line's amount for that year to nothing. (A reduction needs the award approved: one
    # awaiting approval gives the line no headroom to reduce.)
    assert approve_pending(fund=fund) == 6
    changed = xlsx(by_year_rows(harbour_2024=D("2100.30"), valley_2025=0))
    plan = preview(fund, changed)
    assert problems(plan) == []
    assert [(line.action, line.change) for line in plan.lines] == [
        ("changed", money.gbp("100.10")),
        ("unchanged", money.zero()),
        ("changed", money.gbp("-500.01")),
    ]
    assert plan.after.ledger_total == money.gbp(sum(cells) + D("100.10") - D("500.01"))
    result = imported(fund, changed, officer)
    assert result.record.amounts_changed == 2
    assert entries(fund)[2] == (1, VARIATION, D("100.10"), FY24.start)
    assert (3, VARIATION, D("-500.01"), FY25.start) in entries(fund)
    assert allocated_by_year(fund) == {
        "2023-24": D("1000.10") + D("300"),
        "2024-25": D("2100.30") + D("500.55") + D("400"),
        "2025-26": D("0.00"),
    }
    assert imported(fund, changed, officer).record is None


def test_a_row_whose_total_differs_from_its_years_is_a_problem_naming_the_cell_and_both_figures(fund):
    rows = by_year_rows()
    rows[2] = ("Harbour Refuge", DA, COMMISSIONED, D("1000.10"), D("2000.20"), None, D("3000.29"))
    plan = preview(fund, xlsx(rows))
    assert problems(plan) == [
        "sheet 'Sheet1', row 3, column G (Total): the Total £3,000.29 is not the sum of the line's years, "
        "£3,000.30 (2023-24 £1,000.10 + 2024-25 £2,000.20); the difference is -£0.01. Correct the file "
        "(nothing has been imported)."
    ]


def test_a_line_with_nothing_in_any_year_and_a_bad_year_cell_are_problems(fund):
    rows = by_year_rows()
    rows[3] = ("Hillside Helpline", DA, COMMISSIONED, None, 0, None, None)
    rows[4] = ("Valley Counselling", DA, COMMISSIONED, D("300"), "£4,00", None, None)
    assert problems(preview(fund, xlsx(rows))) == [
        "sheet 'Sheet1', row 4, column D (2023-24 amount): the line has no amount in any year's column "
        "(D, E, F); give it its amount in the year or years it is for.",
        "sheet 'Sheet1', row 5, column E (2024-25 amount): '£4,00' is not an amount: its commas do not "
        "separate thousands, so it could mean more than one figure. Type the amount as a number.",
    ]


def test_the_stated_total_counts_every_year(fund):
    rows = [*by_year_rows(), ("Total", None, None, D("1300.10"), D("2900.75"), D("500.01"), D("4700.86"))]
    plan = preview(fund, xlsx(rows), thematic_area=DA)
    assert problems(plan) == []
    assert plan.stated_total == money.gbp(D("1000.10") + D("2000.20") + D("500.55") + D("1200.01"))
    assert plan.stated_total_difference == money.zero()


def test_an_amount_column_beside_year_columns_is_a_problem(fund):
    rows = by_year_rows()
    rows[1] = ("Organisation", "Thematic area", "Category", "2023/24", "2024-25", "FY 2025/26", "Amount")
    with pytest.raises(ImportRefused) as refused:
        preview(fund, xlsx(rows))
    assert [str(problem) for problem in refused.value.problems] == [
        "sheet 'Sheet1', row 2, column G: the table has an Amount column (column G) and columns of each "
        "year's amounts (D, E, F), so a line's amount could be read two ways; ignore one or the other."
    ]


def test_a_year_outside_the_spend_period_is_refused_naming_its_column(fund):
    header = ("Organisation", "Thematic area", "Category", "2022/23", "2023/2024")
    content = xlsx([header, ("Harbour Refuge", DA, COMMISSIONED, D("10"), D("20"))])
    assert problems(preview(fund, content)) == [
        "sheet 'Sheet1', row 2, column D (2022-23 amount): 2022-23 is outside the fund's spend period "
        "(1 June 2023 to 31 March 2026: 2023-24, 2024-25, 2025-26); the line cannot have an amount for it."
    ]


def test_a_fund_without_a_profile_takes_any_year_of_its_spend_period(fund, officer):
    header = ("Organisation", "Thematic area", "Category", "2025/26")
    content = xlsx([header, ("Harbour Refuge", DA, COMMISSIONED, D("10.01"))])
    assert problems(preview(fund, content)) == []
    imported(fund, content, officer)
    assert entries(fund) == [(1, AWARD, D("10.01"), FY25.start)]


def test_a_fund_with_a_profile_refuses_a_year_it_leaves_out(fund, officer):
    services.fund_profile_set(
        fund=fund, figures={FY23: "3000.00", FY24: "6000.00"}, memo="Two years only", acting_user=officer
    )
    header = ("Organisation", "Thematic area", "Category", "2024/25", "2025/26")
    content = xlsx([header, ("Harbour Refuge", DA, COMMISSIONED, D("10"), D("20"))])
    assert problems(preview(fund, content)) == [
        "sheet 'Sheet1', row 2, column E (2025-26 amount): the fund's profile has no control total for "
        "2025-26 (it has 2023-24, 2024-25); add the year to the fund's profile first, or correct the file."
    ]
    with pytest.raises(ImportRefused, match="profile has no control total for 2025-26"):
        imported(fund, content, officer)
    assert entries(fund) == []


YEAR_HEADER = ("Year", "Organisation", "Thematic area", "Category", "Amount", "Award date")


def test_a_year_column_makes_rows_of_the_same_line_one_line(profiled, officer):
    fund = profiled
    rows = [
        YEAR_HEADER,
        ("2023-24", "Harbour Refuge", DA, COMMISSIONED, D("1000.10"), datetime.date(2023, 9, 1)),
        ("2023-24", "Valley Counselling", DA, COMMISSIONED, D("300.00"), None),
        ("2024/25", "Harbour Refuge", DA, COMMISSIONED, D("2000.20"), None),
        ("FY 2025/26", "Valley Counselling", DA, COMMISSIONED, D("500.01"), datetime.date(2025, 7, 1)),
    ]
    plan = preview(fund, xlsx(rows))
    assert problems(plan) == []
    assert plan.years == [FY23, FY24, FY25]
    assert [(line.row, line.organisation.name, line.by_year) for line in plan.lines] == [
        (2, "Harbour Refuge", [D("1000.10"), D("2000.20"), None]),
        (3, "Valley Counselling", [D("300.00"), None, D("500.01")]),
    ]
    assert plan.sheet_total == money.gbp(D("1000.10") + D("300.00") + D("2000.20") + D("500.01"))
    imported(fund, xlsx(rows), officer)
    assert entries(fund) == [
        (1, AWARD, D("1000.10"), datetime.date(2023, 9, 1)),
        (1, VARIATION, D("2000.20"), FY24.start),
        (2, AWARD, D("300.00"), SPEND_START),
        (2, VARIATION, D("500.01"), datetime.date(2025, 7, 1)),
    ]
    assert allocated_by_year(fund) == {
        "2023-24": D("1300.10"),
        "2024-25": D("2000.20"),
        "2025-26": D("500.01"),
    }
    assert imported(fund, xlsx(rows), officer).record is None
    approve_pending(fund=fund)
    rows[3] = ("2024/25", "Harbour Refuge", DA, COMMISSIONED, D("1999.99"), None)
    imported(fund, xlsx(rows), officer)
    assert (1, VARIATION, D("-0.21"), FY24.start) in entries(fund)
    assert allocated_by_year(fund)["2024-25"] == D("1999.99")


def test_the_same_line_twice_in_one_year_is_a_problem_naming_both_rows(fund):
    rows = [
        YEAR_HEADER,
        ("2023-24", "Harbour Refuge", DA, COMMISSIONED, D("10"), None),
        ("2024-25", "Harbour Refuge", DA, COMMISSIONED, D("20"), None),
        ("2023/24", "Harbour Refuge", DA, COMMISSIONED, D("30"), None),
    ]
    assert problems(preview(fund, xlsx(rows))) == [
        "sheet 'Sheet1', row 4, column A (Financial year): Harbour Refuge appears twice for 2023-24, in rows "
        "2 and 4; a line has one amount a year."
    ]


def test_a_bad_year_cell_or_a_date_outside_its_year_is_a_problem(fund):
    rows = [
        YEAR_HEADER,
        ("2023-25", "Harbour Refuge", DA, COMMISSIONED, D("10"), None),
        ("2024-25", "Valley Counselling", DA, COMMISSIONED, D("20"), datetime.date(2024, 3, 31)),
    ]
    assert problems(preview(fund, xlsx(rows))) == [
        "sheet 'Sheet1', row 2, column A (Financial year): '2023-25' is not a financial year: the second "
        "year must follow the first, as in 2023-24.",
        "sheet 'Sheet1', row 3, column F (Award date): the award date 31 March 2024 is not in 2024-25, the "
        "year of its amount; its entry is dated in that year (1 April 2024 to 31 March 2025).",
    ]


def test_the_preview_shows_the_years_as_read(client, fund, officer):
    content = xlsx(by_year_rows())
    pending = services.pending_import_create(
        fund=fund, file_name="by-year.xlsx", content=content, acting_user=officer
    )
    client.force_login(officer)
    response = client.get(reverse("grants:fund_import_preview", args=[fund.code, pending.token]))
    assert response.status_code == 200
    page = response.content.decode()
    for label in ("2023-24 amount", "2024-25 amount", "2025-26 amount"):
        assert f'<th scope="col" class="num">{label}</th>' in page
    assert '<td class="num">£2,000.20</td>' in page
    assert "The lines add up to" in page and "£4,700.86" in page

    # Confirming records what the preview showed: each year's entry, dated in its year.
    url = reverse("grants:fund_import_preview", args=[fund.code, pending.token])
    done = client.post(url, {"digest": response.context["plan"].digest})
    assert done.status_code == 302
    assert allocated_by_year(fund) == {
        "2023-24": D("1300.10"),
        "2024-25": D("2900.75"),
        "2025-26": D("500.01"),
    }
    assert LedgerEntry.objects.pending().filter(fund=fund, recorded_by=officer).count() == 6


def test_the_command_reports_amounts_by_year(tmp_path, fund):
    path = tmp_path / "by-year.xlsx"
    path.write_bytes(xlsx(by_year_rows()))
    out = io.StringIO()
    call_command("import_allocations", fund.code, str(path), "--dry-run", stdout=out)
    text = out.getvalue()
    assert "2023-24 £1,000.10; 2024-25 £2,000.20" in text
    assert "By year: 2023-24 £1,300.10; 2024-25 £2,900.75; 2025-26 £500.01." in text
    out = io.StringIO()
    call_command("import_allocations", fund.code, str(path), "--dry-run", "--format", "json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["years"] == [
        {"year": "2023-24", "total": "1300.10"},
        {"year": "2024-25", "total": "2900.75"},
        {"year": "2025-26", "total": "500.01"},
    ]
    assert report["lines"][2]["years"] == {"2023-24": "300.00", "2024-25": "400.00", "2025-26": "500.01"}
    assert report["lines"][0]["entries"] == [
        {"year": "2023-24", "kind": "award", "amount": "1000.10", "date": "2023-06-01"},
        {"year": "2024-25", "kind": "variation", "amount": "2000.20", "date": "2024-04-01"},
    ]
    with pytest.raises(CommandError):
        call_command("import_allocations", fund.code, str(path), stdout=io.StringIO())
    assert not Allocation.objects.filter(fund=fund).exists()


def test_a_year_cell_holding_a_formula_excel_never_saved_is_a_problem_not_an_empty_year(fund):
    rows = by_year_rows()
    rows[2] = ("Harbour Refuge", DA, COMMISSIONED, D("1000.10"), "=D3*2", None, None)
    plan = preview(fund, xlsx(rows))
    assert problems(plan) == [
        "sheet 'Sheet1', row 3, column E (2024-25 amount): the amount is a formula (=D3*2) with no saved "
        "result; open the file in Excel, save it, and upload it again (or type the amount)."
    ]


def test_a_heading_written_as_a_year_that_is_not_one_is_a_problem(fund):
    rows = by_year_rows()
    rows[1] = ("Organisation", "Thematic area", "Category", "2023/24", "2024/26", "FY 2025/26", "Total")
    with pytest.raises(ImportRefused) as refused:
        preview(fund, xlsx(rows))
    assert [str(problem) for problem in refused.value.problems] == [
        "sheet 'Sheet1', row 2, column E: the heading '2024/26' is written as a financial year but is not "
        "one: '2024/26' is not a financial year: the second year must follow the first, as in 2023-24."
    ]


def test_a_total_column_without_year_columns_is_only_a_note(fund):
    content = xlsx(
        [
            ("Organisation", "Thematic area", "Category", "Amount", "Total"),
            ("Harbour Refuge", DA, COMMISSIONED, D("5"), 7),
        ]
    )
    plan = preview(fund, content)
    assert problems(plan) == []
    assert [(column.letter, column.key) for column in plan.sheet.columns][3:] == [
        ("D", "amount"),
        ("E", "notes"),
    ]
    assert (plan.years, plan.lines[0].years, plan.lines[0].notes) == ([], {}, "7")


def test_a_table_by_year_is_planned_in_the_same_number_of_queries_whatever_its_rows(fund, officer):
    imported(fund, xlsx(by_year_rows()), officer)
    approve_pending(fund=fund)
    header, *lines = by_year_rows()[1:]
    more = [
        (f"Provider {number}", DA, COMMISSIONED, D("10"), D("20"), D("30"), D("60")) for number in range(12)
    ]
    counts = []
    for rows in ([header, *lines], [header, *lines, *more]):
        with CaptureQueriesContext(connection) as queries:
            plan = preview(fund, xlsx(rows))
        assert problems(plan) == []
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert [line.action for line in plan.lines[:3]] == ["unchanged"] * 3


def readme_table_by_year() -> list[tuple]:
    """The README's table by year, as a workbook's rows: columns split on two or more spaces."""
    text = README.read_text()
    block = text[text.index("<!-- import example: by year -->") :].split("```")[1]
    rows = []
    for number, printed in enumerate(block.strip().splitlines()[1:]):
        cells = [cell.strip() for cell in printed.split("  ") if cell.strip()]
        if number == 0:
            rows.append(tuple(cells))
            continue
        name, area, category, *amounts = cells
        amounts = [D(amount.replace(",", "")) for amount in amounts]
        first, second, total = amounts if len(amounts) == 3 else (amounts[0], None, amounts[1])
        rows.append((name, area, category, first, second, total))
    return rows


def test_the_readmes_table_by_year_imports_as_it_says(fund, officer):
    rows = readme_table_by_year()
    assert rows[0] == ("Organisation", "Thematic area", "Funding category", "2023/24", "2024/25", "Total")
    imported(fund, xlsx(rows), officer)
    assert list(
        LedgerEntry.objects.filter(fund=fund)
        .order_by("allocation__line_number", "effective_date")
        .values_list("allocation__organisation__name", "kind", "amount", "effective_date")
    ) == [
        ("Harbour Refuge", AWARD, D("1000.10"), SPEND_START),
        ("Harbour Refuge", VARIATION, D("2000.20"), datetime.date(2024, 4, 1)),
        ("Valley Counselling", AWARD, D("300.00"), SPEND_START),
    ]


def test_a_refused_later_year_writes_nothing_of_the_import(fund, officer):
    imported(fund, xlsx(by_year_rows()), officer)
    before = entries(fund)
    # Valley Counselling's 2025-26 reduction is refused while its award awaits approval (a reduction
    # needs approved money to reduce), and with it the whole file: Harbour Refuge's increase too.
    changed = xlsx(by_year_rows(harbour_2024=D("2100.30"), valley_2025=0))
    with pytest.raises(ImportRefused) as refused:
        imported(fund, changed, officer)
    assert [str(problem) for problem in refused.value.problems] == [
        "sheet 'Sheet1', row 5: -£500.01 is less than the £0.00 paid or awaiting approval on this line: "
        "payments cannot exceed the award. Reverse a payment first (the reduction can follow once it is "
        "approved)."
    ]
    assert entries(fund) == before
    assert ImportRecord.objects.filter(fund=fund).count() == 1


@pytest.mark.parametrize("approved", [True, False], ids=["approved", "awaiting approval"])
def test_importing_the_same_table_again_leaves_a_carry_forward_alone(profiled, officer, approver, approved):
    """A table by year says what was awarded for each year; £1,000.10 of Harbour Refuge's 2023-24
    the funder later agreed to carry into 2024-25 was still awarded for 2023-24, so importing the
    table again plans nothing (it used to plan the carry-forward's undoing as two plain variations)."""
    fund = profiled
    content = xlsx(by_year_rows())
    imported(fund, content, officer)
    approve_pending(fund=fund)
    harbour = Allocation.objects.get(fund=fund, organisation__name="Harbour Refuge")
    in_leg = services.carry_forward_line(
        allocation=harbour, from_year=FY23, amount="1000.10", reference="MoJ letter", acting_user=officer
    )
    if approved:
        services.entry_approve(entry=in_leg, acting_user=approver)
    before = entries(fund)

    again = imported(fund, content, officer)

    assert again.record is None
    assert [line.action for line in again.plan.lines] == ["unchanged"] * 3
    assert entries(fund) == before


def one_line_by_year(y23, y24):
    total = (y23 or D(0)) + (y24 or D(0))
    return xlsx([("t",), BY_YEAR_HEADER, ("Harbour Refuge", DA, COMMISSIONED, y23, y24, None, total)])


def year_rows(year, amount):
    return xlsx([YEAR_HEADER, (year, "Harbour Refuge", DA, COMMISSIONED, amount, None)])


def test_a_year_column_table_that_moves_a_line_to_another_year_moves_it(profiled, officer):
    """The line's 2023-24 in the ledger counts as covered by the table: the file leaving it out
    brings it to £0.00, so the line ends with the file's £1,000.00, not £2,000.00 (found by the
    hostile reading), and the preview's amount is what the ledger will hold."""
    fund = profiled
    imported(fund, year_rows("2023-24", D("1000.00")), officer)
    approve_pending(fund=fund)
    moved = year_rows("2024-25", D("1000.00"))

    plan = preview(fund, moved)

    assert problems(plan) == []
    (line,) = plan.lines
    assert (line.action, line.amount, line.change) == ("changed", D("1000.00"), money.zero())
    assert line.entries == [(FY23, D("-1000.00"), SPEND_START), (FY24, D("1000.00"), FY24.start)]
    assert plan.after.ledger_total == money.gbp("1000.00")
    imported(fund, moved, officer)
    assert allocated_by_year(fund) == {"2023-24": D("0.00"), "2024-25": D("1000.00"), "2025-26": D("0.00")}
    awarded = Allocation.objects.with_awarded(Approval.APPROVED_OR_PENDING).get(fund=fund).awarded
    assert money.from_aggregate(awarded) == money.gbp("1000.00")


def test_a_year_table_that_leaves_out_a_ledger_year_of_a_line_brings_it_to_nothing(profiled, officer):
    """The same rule for a table with a column for each year: a line's 2025-26 in the ledger, which
    the file has no column for, is covered too; the preview's amount is the ledger's after import."""
    fund = profiled
    imported(fund, xlsx(by_year_rows()), officer)
    approve_pending(fund=fund)
    header = ("Organisation", "Thematic area", "Category", "2023/24", "2024-25")
    content = xlsx([header, ("Valley Counselling", DA, COMMISSIONED, D("300"), D("400"))])

    plan = preview(fund, content)

    assert problems(plan) == []
    (line,) = plan.lines
    assert (line.action, line.amount, line.entries) == (
        "changed",
        D("700.00"),
        [(FY25, D("-500.01"), FY25.start)],
    )


def test_moving_money_between_years_of_a_paid_line_is_refused_in_the_preview(profiled, officer):
    """£500.00 paid on a £1,000.00 line: the file's 2023-24 £400.00 and 2024-25 £600.00 keep the total,
    but the reduction would count at once and the increase only once approved, so the preview says
    so at the year's cell and points to a carry-forward; confirming writes nothing."""
    fund = profiled
    imported(fund, one_line_by_year(D("1000.00"), None), officer)
    approve_pending(fund=fund)
    line = Allocation.objects.get(fund=fund)
    services.payment_record(
        allocation=line,
        amount="500.00",
        effective_date=datetime.date(2023, 9, 1),
        reference="P1",
        memo="",
        acting_user=officer,
    )
    approve_pending(fund=fund)
    moved = one_line_by_year(D("400.00"), D("600.00"))

    plan = preview(fund, moved)

    assert problems(plan) == [
        "sheet 'Sheet1', row 3, column D (2023-24 amount): Harbour Refuge: the file takes 2023-24 from "
        "£1,000.00 to £400.00, and that reduction would leave the line's award at £400.00, less than the "
        "£500.00 paid or awaiting approval on it (an increase in another year counts only once approved). "
        "To move money between the years of a line that has been paid, record a carry-forward on the "
        "line's page (Carry forward), with the funder's reference, and keep the file's years as the ledger "
        "has them; otherwise correct the file. Nothing has been imported."
    ]
    before = entries(fund)
    with pytest.raises(ImportRefused) as refused:
        imported(fund, moved, officer)
    assert [str(problem) for problem in refused.value.problems] == problems(plan)
    assert entries(fund) == before


def test_a_payment_awaiting_approval_counts_against_moving_money_between_years(profiled, officer):
    fund = profiled
    imported(fund, one_line_by_year(D("1000.00"), None), officer)
    approve_pending(fund=fund)
    services.payment_record(
        allocation=Allocation.objects.get(fund=fund),
        amount="400.01",
        effective_date=datetime.date(2023, 9, 1),
        reference="P1",
        memo="",
        acting_user=officer,
    )
    plan = preview(fund, one_line_by_year(D("400.00"), D("600.00")))
    assert len(plan.problems) == 1
    assert "less than the £400.01 paid or awaiting approval" in str(plan.problems[0])


def test_moving_money_between_years_of_a_line_paid_less_than_what_stays_is_imported(profiled, officer):
    """£300.00 paid: taking 2023-24 to £400.00 leaves the award above it at every step."""
    fund = profiled
    imported(fund, one_line_by_year(D("1000.00"), None), officer)
    approve_pending(fund=fund)
    services.payment_record(
        allocation=Allocation.objects.get(fund=fund),
        amount="300.00",
        effective_date=datetime.date(2023, 9, 1),
        reference="P1",
        memo="",
        acting_user=officer,
    )
    approve_pending(fund=fund)
    moved = one_line_by_year(D("400.00"), D("600.00"))

    assert problems(preview(fund, moved)) == []
    imported(fund, moved, officer)
    assert allocated_by_year(fund) == {"2023-24": D("400.00"), "2024-25": D("600.00"), "2025-26": D("0.00")}


def test_a_total_rows_year_figures_are_checked_against_the_lines(fund):
    """Lines: 2023-24 £1,300.10, 2024-25 £2,900.75, 2025-26 £500.01; the Total row's overall figure is
    right but two of its year cells are £100.00 out either way (found by the hostile reading)."""
    rows = by_year_rows()
    rows.append(("Total", None, None, D("1300.10"), D("3000.75"), D("400.01"), D("4700.86")))

    plan = preview(fund, xlsx(rows))

    assert problems(plan) == [
        "sheet 'Sheet1', row 6, column E (2024-25 amount): the Total row says £3,000.75 for 2024-25, and "
        "the lines' amounts for 2024-25 come to £2,900.75; the difference is -£100.00. Correct the file "
        "(nothing has been imported).",
        "sheet 'Sheet1', row 6, column F (2025-26 amount): the Total row says £400.01 for 2025-26, and "
        "the lines' amounts for 2025-26 come to £500.01; the difference is £100.00. Correct the file "
        "(nothing has been imported).",
    ]


def test_a_total_rows_year_figures_that_agree_with_the_lines_are_no_problem(fund):
    rows = by_year_rows()
    rows.append(("Total", None, None, D("1300.10"), D("2900.75"), D("500.01"), D("4700.86")))
    plan = preview(fund, xlsx(rows))
    assert problems(plan) == []
    assert plan.stated_total_difference == money.zero()
