"""Finding the header row (the first with an amount heading) and reading each of its columns, by its
heading or as the officer's mapping says."""

from __future__ import annotations

from openpyxl.utils import get_column_letter

from grants.imports import ImportRefused, Problem
from grants.imports.cells import is_blank
from grants.imports.reading._base import _cell, _is_number, _text
from grants.imports.reading.headings import (
    FIELD_BY_KEY,
    IGNORE,
    IGNORE_FIELD,
    SINGLE_FIELDS,
    field_for_heading,
    is_currency_heading,
)
from grants.imports.reading.mapping import Mapping, _mapped_index
from grants.imports.reading.sheet import ColumnReading, ParsedSheet
from grants.imports.reading.years import YEAR_AMOUNT, YEAR_HEADING_PROBLEM, _check_year_shape, year_of_heading
from grants.years import FinancialYear

HEADER_SEARCH_ROWS = 30


def _header_keys(values, mapping: Mapping) -> dict[int, tuple[str, str]]:
    """Each column of a candidate header row and (field key, how it was read), as the headings and
    then the mapping say."""
    keys = {}
    for index, value in enumerate(values):
        year = year_of_heading(value)
        if isinstance(year, FinancialYear):
            keys[index] = (f"{YEAR_AMOUNT}{year.start_year}", "heading: a financial year's amounts")
            continue
        if isinstance(year, str):
            keys[index] = (YEAR_HEADING_PROBLEM, year)
            continue
        found, how = field_for_heading(value)
        if found is not None:
            keys[index] = (found.key, how)
    for key, reference in mapping.columns:
        index = _mapped_index(reference, values)
        if index is not None:
            for other, (other_key, _) in list(keys.items()):
                if other_key == key and key in SINGLE_FIELDS and other != index:
                    del keys[other]  # the officer's choice replaces the heading's reading
            keys[index] = (key if key != IGNORE else "", "chosen")
    return keys


def _find_header(rows: list[tuple], parsed: ParsedSheet, mapping: Mapping) -> dict[str, int | list[int]]:
    """Find the header (the first row with an amount column, by heading or mapping) and map its columns."""
    for row_number, values in enumerate(rows[:HEADER_SEARCH_ROWS], start=1):
        keys = _header_keys(values, mapping)
        amount = next(
            (index for index, (key, _) in keys.items() if key == "amount" or key.startswith(YEAR_AMOUNT)),
            None,
        )
        # The amount column's heading is in this row: a column chosen by letter does not make any
        # row the header row.
        if amount is None or not _text(_cell(values, amount)) and not _is_number(_cell(values, amount)):
            continue
        # A title of one word in column A ("Grants") is not a header; a lone "£" over the amounts,
        # or an amount heading beside an unheaded column of names, is.
        filled = [value for value in values if not is_blank(value)]
        if len(filled) < 2 and amount == 0 and not is_currency_heading(_cell(values, amount)):
            continue
        parsed.header_row = row_number
        return _map_header(rows, values, keys, row_number, parsed, mapping)
    headings = '"Amount", "Award", "Grant", "£", "2023/24"'
    raise ImportRefused(
        [
            Problem(
                f"No header row found in the first {HEADER_SEARCH_ROWS} rows: the table needs a heading row "
                f"with an amount column (headed, for example, {headings}) and the organisations' names.",
                parsed.sheet_name,
            )
        ]
    )


def _map_header(rows, values, keys, row_number: int, parsed: ParsedSheet, mapping: Mapping) -> dict:
    problems = []
    for key, reference in mapping.columns:
        if _mapped_index(reference, values) is None:
            headings = ", ".join(repr(str(value).strip()) for value in values if not is_blank(value))
            problems.append(
                Problem(
                    f"no column is headed {reference!r} (to read as "
                    f"{FIELD_BY_KEY.get(key, IGNORE_FIELD).title}); the headings are {headings}.",
                    parsed.sheet_name,
                    row_number,
                )
            )
    columns: dict[str, int | list] = {"notes": [], "years": []}
    readings = []
    width = max(len(values), max(keys, default=-1) + 1)
    for index in range(width):
        value = _cell(values, index)
        heading = str(value).strip() if value is not None else ""
        key, how = keys.get(index, ("", ""))
        letter = get_column_letter(index + 1)
        if key == YEAR_HEADING_PROBLEM:
            problems.append(Problem(how, parsed.sheet_name, row_number, letter))
            continue
        if key.startswith(YEAR_AMOUNT):
            year = FinancialYear(int(key.removeprefix(YEAR_AMOUNT)))
            first = next((other for other, seen in columns["years"] if seen == year), None)
            if first is not None:
                problems.append(
                    Problem(
                        f"a second column of {year.label} amounts (the first is column "
                        f"{get_column_letter(first + 1)}); say which column to read, and ignore the other.",
                        parsed.sheet_name,
                        row_number,
                        letter,
                    )
                )
                continue
            columns["years"].append((index, year))
            readings.append([index, heading, "year_amount", how, year])
            continue
        if not key and heading and how != "chosen":
            key, how = "notes", "heading not recognised: kept in the line's notes"
        if key in SINGLE_FIELDS and key in columns:
            first = get_column_letter(columns[key] + 1)
            problems.append(
                Problem(
                    f"a second {FIELD_BY_KEY[key].title} column (the first is column {first}); say which "
                    "column to read, and ignore the other.",
                    parsed.sheet_name,
                    row_number,
                    get_column_letter(index + 1),
                )
            )
            continue
        if key == "notes":
            columns["notes"].append(index)
        elif key:
            columns[key] = index
        readings.append([index, heading, key, how, None])
    _check_year_shape(columns, readings, problems, parsed, row_number)
    if "organisation" not in columns and "service" in columns:
        # A list of services and no organisation column: the services name the lines.
        columns["organisation"] = columns.pop("service")
        for reading in readings:
            if reading[0] == columns["organisation"]:
                reading[2], reading[3] = "organisation", f"{reading[3]}; the table has no organisation column"
    below = rows[row_number : row_number + 50]
    if "organisation" not in columns:
        unheaded = _unheaded_text_column(below, readings)
        if unheaded is not None:
            columns["organisation"] = unheaded
            for reading in readings:
                if reading[0] == unheaded:
                    reading[2], reading[3] = "organisation", "no heading; its cells are names"
    if "organisation" not in columns:
        problems.append(
            Problem(
                "the Organisation column is missing: no heading reads as one (Organisation, Provider, "
                "Recipient, Grantee, Service provider, Service); say which column it is.",
                parsed.sheet_name,
                row_number,
            )
        )
    parsed.columns = [
        ColumnReading(*reading)
        if reading[1] or reading[2] or reading[3]
        else ColumnReading(reading[0], "", "", "no heading: ignored")
        for reading in readings
        if reading[1] or reading[2] or reading[3] or any(not is_blank(_cell(v, reading[0])) for v in below)
    ]
    parsed.column_letters = {
        key: get_column_letter(index + 1) for key, index in columns.items() if isinstance(index, int)
    }
    parsed.year_columns = {year.start_year: get_column_letter(index + 1) for index, year in columns["years"]}
    parsed.years = sorted(year for _, year in columns["years"])
    if problems:
        raise ImportRefused(problems)
    return columns


def _unheaded_text_column(rows, readings) -> int | None:
    """The column with no heading whose cells below are text in the most rows, if any are."""
    counts = {}
    for index, heading, key, *_ in readings:
        if heading or key:
            continue
        counts[index] = sum(1 for values in rows if _text(_cell(values, index)))
    best = max(counts, key=lambda index: (counts[index], -index), default=None)
    return best if best is not None and counts[best] else None
