"""The MoJ return's Outturn sheet: the fund's outturn (`grants.reconciliation.outturn`) with a column
per financial year and their total, or one column, and self-check cells that compare its figures
with the Reconciliation and Allocations sheets.

The rows are `FIGURES`, in order: a recorded figure is written as a number, a derived one as a
formula of its terms, and the Total column as the sum of the year columns, each formula with its
computed result beside it.
"""

from __future__ import annotations

from djmoney.money import Money
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from grants import money
from grants.exports.moj_return_format import Formats, MojReturnData
from grants.exports.moj_return_print import LINE_HEIGHT, set_up_page, wrapped_height, write_title
from grants.reconciliation import FundReconciliation
from grants.reconciliation.outturn import FIGURES, FundOutturn

HEADER_ROW = 3  # zero-based
FIRST_FIGURE_ROW = HEADER_ROW + 2  # below the header and the row of periods
# Wide enough for the longest label (the cash held's), which would be cut by the figure beside it.
FIGURE_COLUMN_WIDTH, COLUMN_WIDTH = 64, 16

INTRODUCTION = (
    "Each figure counts the approved entries dated in the column's period; underspend still due is "
    "what providers owe at the period's start or end. The control total, net spend, cash held, the "
    "balance and the Total column are live formulas."
)


def figure_cell(name: str, column: int) -> str:
    """The absolute reference of a figure's cell in a column (1 is the first year or the only one)."""
    row = FIRST_FIGURE_ROW + [figure.name for figure in FIGURES].index(name)
    return xl_rowcol_to_cell(row, column, row_abs=True, col_abs=True)


def check_outturn(
    outturn: FundOutturn, rec: FundReconciliation, year_totals: list[tuple[str, Money]]
) -> None:
    """Refuse a return whose outturn (summed from the entries by year) disagrees with the control
    total and allocations it shows, in all and year by year."""
    overall = outturn.overall
    pairs = [
        ("control total", overall.control_total, rec.control_total),
        ("allocated", overall.allocated, rec.ledger_total),
    ]
    if year_totals:
        pairs += [
            (f"allocated in {column.label}", column.allocated, written)
            for column, (_, written) in zip(outturn.years, year_totals, strict=True)
        ]
    for name, outturn_amount, shown in pairs:
        if outturn_amount != shown:
            raise RuntimeError(
                f"The outturn's {name} ({money.format_gbp(outturn_amount)}) does not agree with the "
                f"return's ({money.format_gbp(shown)}). The fund may have changed while the return was "
                "being written: export again. If it happens again, run `manage.py check_figures`."
            )


def write_outturn(
    sheet: Worksheet,
    data: MojReturnData,
    formats: Formats,
    total_cell: str,
    year_totals: list[tuple[str, Money]],
) -> None:
    outturn = data.outturn
    columns = outturn.columns
    sheet.set_column(0, 0, FIGURE_COLUMN_WIDTH)
    sheet.set_column(1, len(columns), COLUMN_WIDTH)
    set_up_page(sheet, data, "Outturn")
    write_title(
        sheet,
        f"Outturn: {data.title}",
        len(columns),
        FIGURE_COLUMN_WIDTH + COLUMN_WIDTH * len(columns),
        formats.title,
    )
    # Across the sheet's columns, wrapped, so the sentence prints whole on the page.
    sheet.set_row(1, wrapped_height(INTRODUCTION, FIGURE_COLUMN_WIDTH + COLUMN_WIDTH * len(columns)))
    sheet.merge_range(1, 0, 1, len(columns), INTRODUCTION, formats.wrap)
    sheet.set_row(HEADER_ROW, 2 * LINE_HEIGHT)  # a label wider than its column wraps
    sheet.write_string(HEADER_ROW, 0, "Figure", formats.header)
    # Row by row: the workbook is written in constant-memory mode.
    for column, outturn_column in enumerate(columns, start=1):
        sheet.write_string(HEADER_ROW, column, outturn_column.label, formats.header_number)
    # A period ("1 April 2023 to 31 March 2024") takes two or three lines of its column.
    periods = [outturn_column.period for outturn_column in columns]
    sheet.set_row(HEADER_ROW + 1, max(wrapped_height(period, COLUMN_WIDTH) for period in periods))
    for column, period in enumerate(periods, start=1):
        sheet.write_string(HEADER_ROW + 1, column, period, formats.wrap)

    row_of = {figure.name: FIRST_FIGURE_ROW + index for index, figure in enumerate(FIGURES)}
    total_column = len(columns) if outturn.total is not None else None
    for figure in FIGURES:
        row = row_of[figure.name]
        strong = figure.name == "balance_to_return"
        sheet.write_string(row, 0, figure.label, formats.label if strong else None)
        cell_format = formats.money_bold if strong else formats.money
        for column, outturn_column in enumerate(columns, start=1):
            amount = outturn_column.figure(figure.name).amount
            if column == total_column:
                first, last = xl_rowcol_to_cell(row, 1), xl_rowcol_to_cell(row, column - 1)
                # Rounded to the penny: the amounts are binary floats in the spreadsheet. A balance
                # is the first year's at the start, the last year's at the end.
                made = {"first": first, "last": last}.get(figure.total_by, f"SUM({first}:{last})")
                sheet.write_formula(row, column, f"=ROUND({made},2)", cell_format, amount)
            elif figure.is_derived:
                terms = "".join(
                    f"{'+' if sign > 0 else '-'}{xl_rowcol_to_cell(row_of[term], column)}"
                    for term, sign in figure.terms
                )
                sheet.write_formula(row, column, f"=ROUND({terms.lstrip('+')},2)", cell_format, amount)
            else:
                sheet.write_number(row, column, amount, cell_format)

    _write_self_check(sheet, outturn, formats, row_of, total_cell, year_totals)


def _write_self_check(
    sheet: Worksheet,
    outturn: FundOutturn,
    formats: Formats,
    row_of: dict[str, int],
    total_cell: str,
    year_totals: list[tuple[str, Money]],
) -> None:
    """Differences that are £0.00 when the sheet agrees with the rest of the return, as the
    Reconciliation sheet's ledger total agrees with the Allocations sheet."""
    overall_column = len(outturn.columns)
    row = row_of[FIGURES[-1].name] + 2
    sheet.write_string(row, 0, "Self-check", formats.header)
    sheet.write_string(row, 1, "Difference (£)", formats.header_number)
    checks = [
        (
            "Control total less the Reconciliation sheet's",
            xl_rowcol_to_cell(row_of["control_total"], overall_column),
            "Reconciliation!$B$3",
        ),
        (
            "Allocated less the Allocations sheet's total",
            xl_rowcol_to_cell(row_of["allocated"], overall_column),
            total_cell,
        ),
    ]
    if year_totals:
        checks += [
            (
                f"Allocated in {column.label} less the Allocations sheet's",
                xl_rowcol_to_cell(row_of["allocated"], index),
                cell,
            )
            for index, (column, (cell, _)) in enumerate(zip(outturn.years, year_totals, strict=True), start=1)
        ]
    # The builder refuses a return whose outturn disagrees with its other sheets (`check_outturn`),
    # so each difference it writes is nil.
    for label, cell, other in checks:
        row += 1
        sheet.write_string(row, 0, label)
        sheet.write_formula(row, 1, f"=ROUND({cell}-{other},2)", formats.money, money.zero().amount)
