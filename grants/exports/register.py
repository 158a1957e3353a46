"""The statutory grants register as CSV and .xlsx: one row per grant with the Order's fields
(grants.selectors.register). Pure builders: rows in, a file out."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import BinaryIO, TextIO

import xlsxwriter

from grants.models import starts_like_a_formula
from grants.selectors.register import REGISTER_COLUMNS, RegisterRow


def _text(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = "" if value is None else str(value)
    # Names and texts are refused at entry if they begin like a formula; a spreadsheet opening the
    # file must still never run one, so an apostrophe is put before any that got this far.
    return f"'{text}" if starts_like_a_formula(text) else text


def write_register_csv(rows: Iterable[RegisterRow], stream: TextIO) -> None:
    writer = csv.writer(stream)
    writer.writerow([title for title, _ in REGISTER_COLUMNS])
    for row in rows:
        writer.writerow([_text(getattr(row, field)) for _, field in REGISTER_COLUMNS])


def write_register_xlsx(rows: Iterable[RegisterRow], output: str | BinaryIO, *, title: str) -> None:
    """One sheet: a title line, the headings, a row per grant. Amounts are numbers, dates are dates,
    text is written as text (never as a formula)."""
    workbook = xlsxwriter.Workbook(
        output, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet("Register")
    bold = workbook.add_format({"bold": True})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    money = workbook.add_format({"num_format": "#,##0.00", "valign": "top"})
    date = workbook.add_format({"num_format": "d mmmm yyyy", "valign": "top"})
    sheet.write_string(0, 0, title, bold)
    for column, (heading, _) in enumerate(REGISTER_COLUMNS):
        sheet.write_string(2, column, heading, bold)
    for column, width in enumerate((6, 36, 16, 16, 50, 50, 50)):
        sheet.set_column(column, column, width)
    for index, row in enumerate(rows, start=3):
        for column, (_, field) in enumerate(REGISTER_COLUMNS):
            value = getattr(row, field)
            if isinstance(value, Decimal):
                sheet.write_number(index, column, value, money)
            elif isinstance(value, int):
                sheet.write_number(index, column, value, wrap)
            elif isinstance(value, datetime.date):
                sheet.write_datetime(index, column, value, date)
            elif value:
                sheet.write_string(index, column, value, wrap)
    workbook.close()
