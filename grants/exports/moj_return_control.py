"""The rows under the Allocations sheet's Total: the control total, the variance and the status in
words, so a reader of the printed lines sees at the foot of them whether they add up.

Each is a formula with its computed result beside it. The variance is the lines' total less the
control total, as on the Reconciliation sheet (over-allocated is positive), rounded to the penny; a
variance that is not nil is picked out by a conditional format and named in the status. For a fund
with a profile each year column has its own control total (the Outturn sheet's, carry-forwards
included) and variance.
"""

from __future__ import annotations

from djmoney.money import Money
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from grants import money
from grants.exports.moj_return_format import (
    AllocationColumns,
    Formats,
    MojReturnData,
    describe_variance_formula,
)
from grants.exports.moj_return_outturn import figure_cell
from grants.exports.moj_return_print import LINE_HEIGHT

# The title block's control total (row 5, column F), which the Control total row repeats.
CONTROL_TOTAL_CELL = "$F$5"

YEARS_NOT_RECONCILED = " One or more years do not reconcile: see their variances above."


def write_control_rows(
    sheet: Worksheet,
    data: MojReturnData,
    formats: Formats,
    layout: AllocationColumns,
    total_row: int,
    year_allocated: list[Money],
) -> int:
    """Write the rows below `total_row`; returns the last row written."""
    rec = data.reconciliation
    control_row, variance_row, status_row = total_row + 1, total_row + 2, total_row + 3
    year = "" if data.year is None else f" {data.year.label}"
    # (column, control total formula, control total, allocated) for each year, then the whole.
    columns = (
        [
            (column, f"=Outturn!{figure_cell('control_total', index)}", outturn.control_total, allocated)
            for index, (column, outturn, allocated) in enumerate(
                zip(layout.years, data.outturn.years, year_allocated, strict=True), start=1
            )
        ]
        if layout.years
        else []
    )
    columns.append((layout.amount, f"={CONTROL_TOTAL_CELL}", rec.control_total, rec.ledger_total))

    sheet.write_string(control_row, 1, f"Control total{year}", formats.label)
    for column, formula, control_total, _ in columns:
        sheet.write_formula(control_row, column, formula, formats.money, control_total.amount)

    sheet.write_string(variance_row, 1, "Variance (ledger minus control)", formats.label)
    variances = []
    for column, _, control_total, allocated in columns:
        total = xl_rowcol_to_cell(total_row, column)
        control = xl_rowcol_to_cell(control_row, column)
        variance = money.difference(allocated, control_total)
        variances.append((xl_rowcol_to_cell(variance_row, column), variance))
        # Rounded to the penny: the amounts are binary floats in the spreadsheet.
        sheet.write_formula(
            variance_row, column, f"=ROUND({total}-{control},2)", formats.money_bold, variance.amount
        )
    first, last = columns[0][0], columns[-1][0]
    sheet.conditional_format(
        variance_row,
        first,
        variance_row,
        last,
        {"type": "cell", "criteria": "!=", "value": 0, "format": formats.flag},
    )

    sheet.write_string(status_row, 1, "Status", formats.label_top)
    whole_cell, _ = variances[-1]
    formula = describe_variance_formula(whole_cell)
    words = rec.variance_in_words
    year_variances = variances[:-1]
    if year_variances:
        any_off = ",".join(f"{cell}<>0" for cell, _ in year_variances)
        formula += f'&IF(OR({any_off}),"{YEARS_NOT_RECONCILED}","")'
        if any(variance.amount != 0 for _, variance in year_variances):
            words += YEARS_NOT_RECONCILED
    last_column = len(layout.headers) - 1
    # Across the columns to the right of the label, wrapped, so the sentence prints whole.
    sheet.set_row(status_row, 2 * LINE_HEIGHT)
    sheet.merge_range(status_row, 2, status_row, last_column, "", formats.wrap_bold)
    sheet.write_formula(status_row, 2, formula, formats.wrap_bold, words)
    sheet.conditional_format(
        status_row,
        2,
        status_row,
        last_column,
        {
            "type": "formula",
            "criteria": "=OR(" + ",".join(f"{_absolute(cell)}<>0" for cell, _ in variances) + ")",
            "format": formats.flag,
        },
    )
    return status_row


def _absolute(cell: str) -> str:
    column = cell.rstrip("0123456789")
    return f"${column}${cell[len(column) :]}"
