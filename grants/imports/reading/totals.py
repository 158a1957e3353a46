"""The total a table states: on its Total row, or in a title above it or a sentence below it."""

from __future__ import annotations

import re
from decimal import Decimal

from grants import money
from grants.imports.reading._base import _cell, _is_number, _text
from grants.imports.reading.sheet import ParsedSheet

TOTAL_LABEL = re.compile(r"\s*(grand\s+)?totals?\b", re.IGNORECASE)


def _stated_total(values, columns) -> Decimal | None:
    """The Total row's figure: its amount column's first (in a table by year, its Total column's, else
    the sum of its year columns'), else the one number or £ amount it holds."""
    in_amount_column = _cell(values, columns.get("amount", columns.get("total")))
    if _is_number(in_amount_column):
        return Decimal(str(in_amount_column))
    by_year = [_cell(values, index) for index, _ in columns["years"]]
    if any(_is_number(value) for value in by_year):
        summed = money.Tally()
        for value in by_year:
            if _is_number(value):
                summed.add(Decimal(str(value)))
        return summed.total.amount
    for value in values:
        if _is_number(value):
            return Decimal(str(value))
    for value in values:
        amounts = _amounts_in(_text(value))
        if len(amounts) == 1:
            return amounts[0]
    return None


def _stated_year_totals(values, columns) -> dict:
    """A table with a column for each year: the Total row's figure in each year's column that holds a
    number, by year (checked against the lines' totals for the year when the plan is made)."""
    return {
        year: Decimal(str(value))
        for index, year in columns["years"]
        if _is_number(value := _cell(values, index))
    }


AMOUNT_IN_TEXT = re.compile(r"£\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d{2})?(?![\d,])")


def _amounts_in(text: str) -> list[Decimal]:
    """The pound amounts a sentence states ("Total funding of £1,234,567.89 via ..."), in order."""
    found = []
    for match in AMOUNT_IN_TEXT.finditer(text):
        found.append(Decimal(match.group(1).replace(",", "") + (match.group(2) or "")))
    # Written without a £ after the word total: "Total = 738,810.53".
    if not found and TOTAL_LABEL.match(text):
        match = re.search(r"(\d{1,3}(?:,\d{3})+|\d+)\.(\d{2})\b", text)
        if match:
            found.append(Decimal(f"{match.group(1).replace(',', '')}.{match.group(2)}"))
    return found


def _find_stated_total(rows: list[tuple], parsed: ParsedSheet) -> None:
    """Without a Total row, a total stated in a title above the table or a sentence below it, when
    the file states exactly one amount there; several different ones are shown, none taken."""
    last_line = max((line.row for line in parsed.lines), default=parsed.header_row)
    found: list[tuple[int, Decimal, str]] = []
    for row_number, values in enumerate(rows, start=1):
        if parsed.header_row <= row_number <= last_line or row_number == parsed.total_row:
            continue
        for value in values:
            for amount in _amounts_in(_text(value)):
                where = "the title" if row_number < parsed.header_row else "a sentence below the table"
                found.append((row_number, amount, where))
    if parsed.stated_total is not None:
        # The Total row says it; other amounts stated around the table that disagree are shown.
        parsed.stated_totals_ignored = [
            (row, amount) for row, amount, _ in found if amount != parsed.stated_total
        ]
        return
    distinct = {amount for _, amount, _ in found}
    if len(distinct) == 1:
        row_number, amount, where = found[0]
        parsed.stated_total = amount
        parsed.stated_total_source = f"{where} (row {row_number})"
    elif found:
        parsed.stated_totals_ignored = [(row_number, amount) for row_number, amount, _ in found]
