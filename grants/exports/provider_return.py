"""The workbook the office sends a provider for one line's return for one period, pre-filled from the
ledger, and its layout, which `grants.imports.returns` reads back.

Every row of the Return sheet carries a key in the hidden column C (`line_id`, `measure:12`, ...), so
the import finds each figure by its key, whatever a provider does to the labels. Only the cells a
provider fills in are unlocked; the sheet is protected (without a password: it guards against slips,
not against intent, and the import checks everything again). Text is written with `write_string`,
so nothing from the ledger becomes a formula.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter

from grants.exports.moj_return_format import DATE_FORMAT, MONEY_FORMAT

SHEET = "Return"
ABOUT_SHEET = "About"
MARKER = "provider-return"
LABEL_COLUMN, VALUE_COLUMN, KEY_COLUMN = 0, 1, 2
VALUE_LETTER = "B"


@dataclass(frozen=True)
class MeasureRow:
    key: str  # "measure:<pk>"
    name: str
    kind: str  # "spend" or "output"


@dataclass(frozen=True)
class ProviderReturnData:
    """What the workbook is pre-filled with: plain values from `selectors.provider_return_data`."""

    fund_code: str
    fund_name: str
    organisation: str
    line_id: int
    line_number: int
    service: str
    period_id: int
    period_label: str
    period_start: datetime.date
    period_end: datetime.date
    due_date: datetime.date
    year_label: str
    award_for_year: Decimal
    paid_to_date: Decimal
    measures: tuple[MeasureRow, ...]


def file_name(data: ProviderReturnData) -> str:
    return f"return_{data.fund_code}_line-{data.line_number}_{data.period_start:%Y-%m}.xlsx"


def build_provider_return(data: ProviderReturnData) -> bytes:
    """The workbook's bytes."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    styles = _styles(workbook)
    sheet = workbook.add_worksheet(SHEET)
    sheet.set_column(LABEL_COLUMN, LABEL_COLUMN, 58)
    sheet.set_column(VALUE_COLUMN, VALUE_COLUMN, 40)
    sheet.set_column(KEY_COLUMN, KEY_COLUMN, 18, None, {"hidden": True})
    sheet.write_string(0, 0, f"Provider return: {data.fund_name}", styles["title"])
    sheet.write_string(
        1, 0, "Fill in the yellow cells only; the rest comes from the office's ledger.", styles["note"]
    )
    row = 3
    row = _given(sheet, row, styles, data)
    row += 1
    sheet.write_string(row, 0, "Spend in this period by cost type (£)", styles["heading"])
    row += 1
    for measure in data.measures:
        if measure.kind == "spend":
            _money_input(sheet, row, styles, measure.name, measure.key)
            row += 1
    _money_input(sheet, row, styles, "Total spend in this period (£)", "period_total")
    row += 1
    _money_input(sheet, row, styles, f"Spend to date in {data.year_label} (£)", "spend_to_date")
    row += 2
    sheet.write_string(row, 0, "Outputs in this period", styles["heading"])
    row += 1
    for measure in data.measures:
        if measure.kind == "output":
            sheet.write_string(row, LABEL_COLUMN, measure.name, styles["label"])
            sheet.write_blank(row, VALUE_COLUMN, None, styles["count_input"])
            sheet.data_validation(
                row,
                VALUE_COLUMN,
                row,
                VALUE_COLUMN,
                {
                    "validate": "integer",
                    "criteria": ">=",
                    "value": 0,
                    "error_message": "Enter a whole number, 0 or more.",
                },
            )
            sheet.write_string(row, KEY_COLUMN, measure.key)
            row += 1
    row += 1
    sheet.write_string(row, LABEL_COLUMN, "Where spend differs from plan, why", styles["label"])
    sheet.write_blank(row, VALUE_COLUMN, None, styles["text_input"])
    sheet.write_string(row, KEY_COLUMN, "explanation")
    sheet.set_row(row, 60)
    sheet.protect("", {"format_columns": True, "format_rows": True})
    _about(workbook, styles, data)
    workbook.close()
    return output.getvalue()


def _styles(workbook) -> dict:
    unlocked = {"locked": False, "bg_color": "#FFF2CC", "border": 1}
    return {
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "note": workbook.add_format({"italic": True}),
        "heading": workbook.add_format({"bold": True}),
        "label": workbook.add_format({"text_wrap": True, "valign": "top"}),
        "text": workbook.add_format({"valign": "top"}),
        "money": workbook.add_format({"num_format": MONEY_FORMAT}),
        "date": workbook.add_format({"num_format": DATE_FORMAT, "align": "left"}),
        "number": workbook.add_format({"align": "left"}),
        "money_input": workbook.add_format({**unlocked, "num_format": MONEY_FORMAT}),
        "count_input": workbook.add_format({**unlocked, "num_format": "#,##0"}),
        # Text format: whatever is typed here stays text, never a formula.
        "text_input": workbook.add_format(
            {**unlocked, "num_format": "@", "text_wrap": True, "valign": "top"}
        ),
    }


def _given(sheet, row: int, styles: dict, data: ProviderReturnData) -> int:
    """The pre-filled facts, each with its key; returns the next free row."""
    facts = [
        ("Provider", "organisation", data.organisation),
        ("Fund", "fund", data.fund_code),
        ("Fund name", "fund_name", data.fund_name),
        ("Line number", "line_number", data.line_number),
        ("Service", "service", data.service or "—"),
        ("Reporting period", "period", data.period_label),
        ("Return due", "due_date", data.due_date),
        ("Financial year", "year", data.year_label),
        ("Award for the year (£)", "award_for_year", data.award_for_year),
        ("Payments made so far in the year (approved, £)", "paid_to_date", data.paid_to_date),
        ("Ledger reference of the line (do not change)", "line_id", data.line_id),
        ("Ledger reference of the period (do not change)", "period_id", data.period_id),
        ("Made by the ledger as", "workbook", MARKER),
    ]
    for label, key, value in facts:
        sheet.write_string(row, LABEL_COLUMN, label, styles["label"])
        if isinstance(value, Decimal):
            sheet.write_number(row, VALUE_COLUMN, value, styles["money"])
        elif isinstance(value, datetime.date):
            sheet.write_datetime(
                row, VALUE_COLUMN, datetime.datetime.combine(value, datetime.time()), styles["date"]
            )
        elif isinstance(value, int):
            sheet.write_number(row, VALUE_COLUMN, value, styles["number"])
        else:
            sheet.write_string(row, VALUE_COLUMN, value, styles["text"])
        sheet.write_string(row, KEY_COLUMN, key)
        row += 1
    return row


def _money_input(sheet, row: int, styles: dict, label: str, key: str) -> None:
    sheet.write_string(row, LABEL_COLUMN, label, styles["label"])
    sheet.write_blank(row, VALUE_COLUMN, None, styles["money_input"])
    sheet.data_validation(
        row,
        VALUE_COLUMN,
        row,
        VALUE_COLUMN,
        {
            "validate": "decimal",
            "criteria": ">=",
            "value": 0,
            "error_message": "Enter an amount in pounds, 0 or more (a number, not text).",
        },
    )
    sheet.write_string(row, KEY_COLUMN, key)


def _about(workbook, styles: dict, data: ProviderReturnData) -> None:
    sheet = workbook.add_worksheet(ABOUT_SHEET)
    sheet.set_column(0, 0, 110)
    lines = [
        f"Provider return for line {data.line_number} of {data.fund_name} ({data.fund_code}), "
        f"{data.period_label}.",
        f"Please return it by {data.due_date:%-d %B %Y}.",
        "",
        "What to fill in, on the Return sheet (the yellow cells; everything else is locked):",
        "- Spend in this period by cost type: pounds and pence spent in the period on each cost type; "
        "0 where nothing was spent.",
        "- Total spend in this period: the sum of the cost types. The office checks that they add up.",
        f"- Spend to date in {data.year_label}: everything spent from the start of the financial year to "
        "the end of this period. The office compares it with what it has paid you.",
        "- Outputs: a whole number for each, 0 where there were none. None may be left empty.",
        "- Where spend differs from plan: a few words on why (text only).",
        "",
        "Type numbers as numbers, not text and not formulas. Do not change the ledger references: they "
        "tie this workbook to your line and period, and a workbook made for another line is refused.",
        "If you will not spend the whole award for the year, say so in your year-end return: the office "
        "records the underspend as due back.",
    ]
    for row, text in enumerate(lines):
        if text:
            sheet.write_string(row, 0, text, styles["label"] if row else styles["title"])
    sheet.protect()
