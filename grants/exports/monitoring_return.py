"""The monitoring return to the MoJ for a fund and a reporting period: by provider, the award for the
year, paid to date, declared spend (to date, and the period's by cost type), outputs, underspend due and
returned; totals as formulas with their cached values, and checks that recompute to zero.

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
        ("Spend in period (£)", "money"),
        *outputs,
        ("Underspend due (£)", "money"),
        ("Underspend returned (£)", "money"),
        ("Return", "text"),
    ]


def line_values(data: MonitoringData, line) -> list:
    spend = [m for m in data.measures if m.kind == "spend"]
    outputs = [m for m in data.measures if m.kind == "output"]
    spend_values = [line.values.get(m.pk) for m in spend]
    period_spend = sum((v for v in spend_values if v is not None), Decimal(0)) if line.values else None
    return [
        line.line_number,
        line.organisation,
        line.award_for_year,
        line.paid,
        line.spend_to_date,
        *spend_values,
        period_spend,
        *[line.values.get(m.pk) for m in outputs],
        line.underspend_due,
        line.underspend_returned,
        line.state,
    ]


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
            if value is None:
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
        if kind not in ("money", "count") or column == 0:
            continue
        letter = xl_col_to_name(column)
        cached = sum((values[column] for values in rows if values[column] is not None), Decimal(0))
        totals[column] = cached
        formula = f"=SUM({letter}{first + 1}:{letter}{total_row})" if rows else "=0"
        sheet.write_formula(total_row, column, formula, bold_money if kind == "money" else bold, cached)
    _checks(sheet, data, heads, totals, total_row, bold)
    workbook.close()
    return output.getvalue()


def _checks(sheet, data: MonitoringData, heads, totals: dict, total_row: int, bold) -> None:
    """Each check is a formula that recomputes to 0 when the sheet is consistent."""
    period_column = next(i for i, (h, _k) in enumerate(heads) if h == "Spend in period (£)")
    spend_columns = [
        i for i, (h, _k) in enumerate(heads) if h.endswith(" in period (£)") and i != period_column
    ]
    row = total_row + 2
    sheet.write_string(row, 0, "Checks (each is 0 when the sheet adds up)", bold)
    parts = "+".join(f"{xl_col_to_name(i)}{total_row + 1}" for i in spend_columns) or "0"
    cached = sum((totals[i] for i in spend_columns), Decimal(0)) - totals[period_column]
    sheet.write_string(row + 1, 1, "Cost types less spend in period")
    sheet.write_formula(row + 1, 2, f"={parts}-{xl_col_to_name(period_column)}{total_row + 1}", None, cached)
    paid_total = sum((line.paid for line in data.lines), Decimal(0))
    sheet.write_string(row + 2, 1, "Paid total less the ledger's paid total")
    sheet.write_formula(row + 2, 2, f"=D{total_row + 1}-{paid_total}", None, totals[3] - paid_total)
