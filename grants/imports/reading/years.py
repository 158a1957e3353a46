"""Tables by financial year: a heading that names a year ("2023/24 (£)"), the shape of a table's year
columns, and a line's amounts read from them and checked against its Total."""

from __future__ import annotations

import re

from openpyxl.utils import get_column_letter

from grants import money
from grants.imports import Problem
from grants.imports.cells import CellProblem, read_stated_line_total, read_year_amount
from grants.imports.reading._base import _cell
from grants.imports.reading.sheet import ParsedSheet
from grants.years import YEAR_TEXT, FinancialYear, parse_year

# The key of a column of one year's amounts ("2023/24", "FY 2023-24", "2023/2024") is this prefix and
# the year it starts in; a heading written as a year that is not one is YEAR_HEADING_PROBLEM's.
YEAR_AMOUNT = "year_amount:"
YEAR_HEADING_PROBLEM = "year_heading_problem"


def year_of_heading(value) -> FinancialYear | str | None:
    """The financial year a heading names ("2023/24 (£)"), a message when it is written as a year but
    is not one ("2023/25"), or None when it is not written as a year."""
    if not isinstance(value, str):
        return None
    text = re.sub(r"\(.*?\)", "", value).strip()
    if not YEAR_TEXT.fullmatch(text):
        return None
    try:
        return parse_year(text)
    except ValueError as error:
        return f"the heading {value.strip()!r} is written as a financial year but is not one: {error}."


def _check_year_shape(
    columns, readings, problems: list[Problem], parsed: ParsedSheet, row_number: int
) -> None:
    """A table gives each line one amount, or one for each year in columns headed by year, or one
    for the year its Year column names; never two of these at once. A Total column is checked
    against the year columns beside it; without them it is only a note."""
    year_letters = ", ".join(get_column_letter(index + 1) for index, _ in columns["years"])
    for key, what in (("amount", "an Amount column"), ("year", "a Year column")):
        if columns["years"] and key in columns:
            problems.append(
                Problem(
                    f"the table has {what} (column {get_column_letter(columns[key] + 1)}) and columns of "
                    f"each year's amounts ({year_letters}), so a line's amount could be read two ways; "
                    "ignore one or the other.",
                    parsed.sheet_name,
                    row_number,
                    get_column_letter(columns[key] + 1),
                )
            )
    if "total" in columns and not columns["years"]:
        index = columns.pop("total")
        columns["notes"].append(index)
        for reading in readings:
            if reading[0] == index:
                reading[2] = "notes"
                reading[3] = "a Total column is checked only beside columns of years' amounts: kept in notes"


def _read_years(values, row_number: int, columns, parsed: ParsedSheet, formula_candidates):
    """(the line's total, its amount for each year that has one) from its year columns, checked
    against its Total cell where it has one; (None, ()) after reporting a problem."""
    problems_before = len(parsed.problems)
    found = []
    for index, year in columns["years"]:
        value = _cell(values, index)
        if value is None:
            # Nothing that year, or a formula whose result Excel never saved: the formulas say which.
            formula_candidates.append((row_number, index, parsed.year_column(year), False))
        try:
            amount = read_year_amount(value)
        except CellProblem as problem:
            parsed.problems.append(
                Problem(str(problem), parsed.sheet_name, row_number, parsed.year_column(year))
            )
            continue
        if amount is not None:
            found.append((year, amount))
    stated = None
    if "total" in columns:
        value = _cell(values, columns["total"])
        if value is None:
            formula_candidates.append((row_number, columns["total"], parsed.column("total"), False))
        try:
            stated = read_stated_line_total(value)
        except CellProblem as problem:
            parsed.problems.append(
                Problem(str(problem), parsed.sheet_name, row_number, parsed.column("total"))
            )
    if len(parsed.problems) > problems_before:
        return None, ()
    if not found:
        letters = ", ".join(parsed.year_columns[year.start_year] for year in parsed.years)
        parsed.problems.append(
            Problem(
                f"the line has no amount in any year's column ({letters}); give it its amount in the "
                "year or years it is for.",
                parsed.sheet_name,
                row_number,
                parsed.year_column(parsed.years[0]),
            )
        )
        return None, ()
    total = money.total(money.gbp(amount) for _, amount in found)
    if stated is not None and money.gbp(stated) != total:
        years_said = " + ".join(f"{year.label} {money.format_gbp(amount)}" for year, amount in found)
        parsed.problems.append(
            Problem(
                f"the Total {money.format_gbp(stated)} is not the sum of the line's years, "
                f"{money.format_gbp(total)} ({years_said}); the difference is "
                f"{money.format_gbp(money.difference(money.gbp(stated), total))}. Correct the file "
                "(nothing has been imported).",
                parsed.sheet_name,
                row_number,
                parsed.column("total"),
            )
        )
        return None, ()
    return total.amount, tuple(found)
