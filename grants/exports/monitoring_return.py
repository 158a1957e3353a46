"""The monitoring return to the MoJ for a fund and a reporting period: by provider, the award for the
year, paid to date, declared spend (to date, and the period's by cost type), outputs, underspend due and
returned; totals as formulas with their cached values, and checks that recompute to zero: each row's
cost types against the total its provider stated for the period (and that total within the spend to
date), and the rows' award and paid totals against the ledger's own sums for the whole fund, written
apart from the rows as numbers.

A pure builder over `selectors.returns.monitoring_data`: every text with `write_string` (a name that
begins with = stays text), every figure a number with its format, every formula over the sheet's own
cells only, its cached value worked out here in `Decimal`.
"""

from __future__ import annotations

import io
from decimal import Decimal

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from grants.exports.moj_return_format import MONEY_FORMAT
from grants.selectors.returns import MonitoringData

SHEET = "Monitoring"
HEADER_ROW = 3  # zero-based
PERIOD_SPEND = "Stated spend in period (£)"
ROW_CHECK = "Row check (0 when the row adds up)"


def file_name(data: MonitoringData) -> str:
    return f"monitoring_{data.fund_code}_{data.period.start:%Y-%m}.xlsx"


def columns(data: MonitoringData) -> list[tuple[str, str]]:
    """(heading, kind) per column: kind is text, money, count or state."""
    spend = [(f"{m.name} in period (£)", "money") for m in data.measures if m.kind == "spend"]
    outputs = [(f"{m.name} in period", "count") for m in data.measures if m.kind == "output"]
    return [
        ("No.", "count"),
        ("Provider", "text"),
        (f"Award for {data.year_label} (£)", "money"),
        ("Paid to period end (£)", "money"),
        ("Declared spend to date (£)", "money"),
        *spend,
        (PERIOD_SPEND, "money"),
        *outputs,
        ("Underspend due (£)", "money"),
        ("Underspend returned (£)", "money"),
        ("Return", "text"),
        (ROW_CHECK, "check"),
    ]


def line_values(data: MonitoringData, line) -> list:
    """A row's values; its check is None here (a formula, written with the row)."""
    spend = [m for m in data.measures if m.kind == "spend"]
    outputs = [m for m in data.measures if m.kind == "output"]
    return [
        line.line_number,
        line.organisation,
        line.award_for_year,
        line.paid,
        line.spend_to_date,
        *[line.values.get(m.pk) for m in spend],
        line.period_spend,
        *[line.values.get(m.pk) for m in outputs],
        line.underspend_due,
        line.underspend_returned,
        line.state,
        None,
    ]


def _spend_columns(heads) -> tuple[list[int], int, int]:
    """The cost types' columns, the stated period spend's, and the declared spend to date's."""
    period_column = next(i for i, (h, _k) in enumerate(heads) if h == PERIOD_SPEND)
    to_date_column = next(i for i, (h, _k) in enumerate(heads) if h == "Declared spend to date (£)")
    return list(range(to_date_column + 1, period_column)), period_column, to_date_column


def _row_check(heads, values: list, row: int) -> tuple[str, Decimal]:
    """The row's check formula (1-based `row`) and its cached value: how far its cost types are from
    its stated period spend, plus how far that spend exceeds the spend to date; 0 when both agree."""
    spend_columns, period_column, to_date_column = _spend_columns(heads)
    stated, to_date = xl_col_to_name(period_column), xl_col_to_name(to_date_column)
    cost_types = (
        f"SUM({xl_col_to_name(spend_columns[0])}{row}:{xl_col_to_name(spend_columns[-1])}{row})"
        if spend_columns
        else "0"
    )
    formula = f"=ABS({cost_types}-{stated}{row})+MAX(0,{stated}{row}-{to_date}{row})"
    added = sum((values[i] for i in spend_columns if values[i] is not None), Decimal(0))
    period_spend = values[period_column] or Decimal(0)
    cached = abs(added - period_spend) + max(
        Decimal(0), period_spend - (values[to_date_column] or Decimal(0))
    )
    return formula, cached


def build_monitoring_return(data: MonitoringData) -> bytes:
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    money_format = workbook.add_format({"num_format": MONEY_FORMAT})
    bold = workbook.add_format({"bold": True})
    bold_money = workbook.add_format({"bold": True, "num_format": MONEY_FORMAT})
    sheet = workbook.add_worksheet(SHEET)
    sheet.write_string(0, 0, f"Monitoring return: {data.fund_name} ({data.fund_code})", bold)
    sheet.write_string(1, 0, f"Reporting period {data.period.label}, financial year {data.year_label}")
    heads = columns(data)
    for column, (heading, _kind) in enumerate(heads):
        sheet.write_string(HEADER_ROW, column, heading, bold)
        sheet.set_column(column, column, 34 if column == 1 else 16)
    first = HEADER_ROW + 1
    rows = [line_values(data, line) for line in data.lines]
    for offset, values in enumerate(rows):
        for column, ((_heading, kind), value) in enumerate(zip(heads, values, strict=True)):
            row = first + offset
            if kind == "check":
                formula, cached = _row_check(heads, values, row + 1)
                sheet.write_formula(row, column, formula, money_format, cached)
            elif value is None:
                sheet.write_blank(row, column, None)
            elif kind == "text":
                sheet.write_string(row, column, str(value))
            elif kind == "money":
                sheet.write_number(row, column, value, money_format)
            else:
                sheet.write_number(row, column, value)
    total_row = first + len(rows)
    sheet.write_string(total_row, 1, "Total", bold)
    totals = {}
    for column, (_heading, kind) in enumerate(heads):
        if kind not in ("money", "count", "check") or column == 0:
            continue
        letter = xl_col_to_name(column)
        if kind == "check":
            cached = sum(
                (_row_check(heads, values, first + 1 + n)[1] for n, values in enumerate(rows)), Decimal(0)
            )
        else:
            cached = sum((values[column] for values in rows if values[column] is not None), Decimal(0))
        totals[column] = cached
        formula = f"=SUM({letter}{first + 1}:{letter}{total_row})" if rows else "=0"
        sheet.write_formula(total_row, column, formula, bold if kind == "count" else bold_money, cached)
    _checks(sheet, data, heads, totals, total_row, bold, money_format)
    workbook.close()
    return output.getvalue()


def _checks(sheet, data: MonitoringData, heads, totals: dict, total_row: int, bold, money_format) -> None:
    """Each check is a formula that recomputes to 0 when the sheet is right: the rows' checks (each
    provider's cost types against its stated total, within its spend to date), and the rows' award
    and paid totals against the ledger's own sums for the fund, written beside them as numbers."""
    check_column = next(i for i, (h, _k) in enumerate(heads) if h == ROW_CHECK)
    row = total_row + 2
    sheet.write_string(row, 0, "Checks (each is 0 when the sheet is right)", bold)
    sheet.write_string(row + 1, 1, "Providers' cost types less their stated spend in the period")
    checked = f"{xl_col_to_name(check_column)}{total_row + 1}"
    sheet.write_formula(row + 1, 2, f"={checked}", None, totals[check_column])
    for offset, (label, column, ledger) in enumerate(
        [
            ("Paid total less the ledger's paid to period end for the fund", 3, data.ledger_paid),
            ("Award total less the ledger's award for the year for the fund", 2, data.ledger_award),
        ],
        start=2,
    ):
        sheet.write_string(row + offset, 1, label)
        sheet.write_formula(
            row + offset,
            2,
            f"={xl_col_to_name(column)}{total_row + 1}-D{row + offset + 1}",
            None,
            totals[column] - ledger,
        )
        sheet.write_number(row + offset, 3, ledger, money_format)
