"""The rows below the header: each a line, a section row, a subtotal, the Total row or a note; the
lines read, and an empty amount explained (a formula Excel saved no result for, or a blank cell)."""

from __future__ import annotations

import re
from decimal import Decimal

from openpyxl.utils import get_column_letter

from grants.imports import Problem
from grants.imports.cells import (
    CellProblem,
    is_blank,
    read_amount,
    read_date,
    read_line_number,
    read_notes,
    read_optional_name,
    read_required_name,
    read_year,
)
from grants.imports.reading._base import MAX_COLUMNS, _cell, _first_filled, _is_number, _open, _text
from grants.imports.reading.headings import normalise
from grants.imports.reading.sheet import ParsedSheet, Section, SheetLine, SubtotalRow
from grants.imports.reading.totals import TOTAL_LABEL, _stated_total, _stated_year_totals
from grants.imports.reading.years import _read_years
from grants.years import FinancialYear


def _amount_indexes(columns) -> list[int]:
    """The column of the lines' amounts, or the columns of their years' amounts."""
    return [columns["amount"]] if "amount" in columns else [index for index, _ in columns["years"]]


# Words that follow "Total" in a total's label; a capitalised word that is not one of them begins a
# name ("Total Insight Theatre").
TOTAL_WORDS = frozenset(
    {
        "allocated",
        "allocation",
        "allocations",
        "amount",
        "approved",
        "awarded",
        "awards",
        "budget",
        "cost",
        "costs",
        "for",
        "funding",
        "grant",
        "grants",
        "in",
        "of",
        "spend",
        "to",
        "value",
    }
)


def _is_total_label(values, columns) -> bool:
    """A row whose first filled cell says Total ("Total", "Total = £738,810.53", "Total funding to be
    approved", "Grand Total") and that has no line number; "Total Insight Theatre", a name, is not."""
    first = _first_filled(values)
    if not isinstance(first, str) or not (match := TOTAL_LABEL.match(first)):
        return False
    following = first[match.end() :].split()
    if following and following[0][:1].isupper() and following[0].casefold() not in TOTAL_WORDS:
        return False
    return not _is_number(_cell(values, columns.get("number")))


def _is_section(values, columns) -> bool:
    """One cell of text and nothing else: no amount, no number."""
    filled = [value for value in values if not is_blank(value)]
    return (
        len(filled) == 1
        and isinstance(filled[0], str)
        and all(is_blank(_cell(values, index)) for index in _amount_indexes(columns))
    )


def _read_body(body, columns, parsed: ParsedSheet, content: bytes) -> None:
    """Sort the rows below the header into lines, section rows, a Total row and notes, and read the lines."""
    sections_apply = not (parsed.has_column("thematic_area") and parsed.has_column("funding_category"))
    numbered = parsed.has_column("number")
    kinds = []  # (row, values, kind): kind is "line", "total", "subtotal", "section" or "note"
    section_texts: set[str] = set()
    for row_number, values in body:
        if all(is_blank(value) for value in values):
            continue
        if _is_subtotal_label(values, columns, section_texts):
            kinds.append((row_number, values, "subtotal"))
        elif _is_total_label(values, columns):
            kinds.append((row_number, values, "total"))
        elif _is_section(values, columns):
            kind = _section_or_note(values, columns, numbered, sections_apply)
            if kind == "section":
                section_texts.add(normalise(_section_text(values)[0]))
            kinds.append((row_number, values, kind))
        else:
            kinds.append((row_number, values, "line"))
    total_at = _total_row(kinds, numbered)
    # A row labelled Total that lines follow is not the table's total but a part's: a subtotal.
    kinds = [
        (
            row,
            values,
            "subtotal" if kind == "total" and (not total_at or row < total_at) else kind,
        )
        for row, values, kind in kinds
    ]
    formula_candidates: list[tuple[int, int, str, bool]] = []
    section_rows: dict[int, tuple[str, str]] = {}
    subtotal_rows: list[tuple[int, str, Decimal | None]] = []
    for row_number, values, kind in kinds:
        if total_at and row_number > total_at:
            if kind == "line" and _is_number(_cell(values, columns.get("number"))):
                parsed.problems.append(
                    Problem(
                        f"a line below the Total row (row {total_at}); move it above the Total row.",
                        parsed.sheet_name,
                        row_number,
                        parsed.column("number"),
                    )
                )
            continue  # notes under the table are not lines
        if row_number == total_at:
            parsed.total_row = row_number
            parsed.stated_total = _stated_total(values, columns)
            if parsed.stated_total is not None:
                parsed.stated_total_source = f"the Total row (row {row_number})"
            parsed.stated_year_totals = _stated_year_totals(values, columns)
            continue
        if kind == "section":
            section_rows[row_number] = _section_text(values)
            continue
        if kind == "subtotal":
            subtotal_rows.append((row_number, _text(_first_filled(values)), _stated_total(values, columns)))
            continue
        if kind == "note":
            continue
        line = _read_line(values, row_number, columns, parsed, formula_candidates)
        if line is not None:
            parsed.lines.append(line)
    if section_rows:
        # A section row's amount may be a formula Excel saved no result for: then it is a line.
        labels = (
            {index: parsed.year_column(year) for index, year in columns["years"]}
            if columns["years"]
            else {columns["amount"]: f"{get_column_letter(columns['amount'] + 1)} (Amount)"}
        )
        formula_candidates += [
            (row, index, label, False) for row in section_rows for index, label in labels.items()
        ]
    if formula_candidates:
        _report_formulas(content, parsed, formula_candidates, section_rows)
    last_line = max((line.row for line in parsed.lines), default=0)
    parsed.subtotals = _subtotals(subtotal_rows, parsed.lines, section_rows, parsed.header_row)
    parsed.sections = [
        Section(row, text, letter) for row, (text, letter) in sorted(section_rows.items()) if row < last_line
    ]


SUBTOTAL_LABEL = re.compile(r"\s*sub[\s-]?totals?\b", re.IGNORECASE)


def _is_subtotal_label(values, columns, section_texts: set[str]) -> bool:
    """A row that adds up part of the table: "Subtotal", "Sub-total", or "Total" and the text of a
    section row above it ("Total Sexual Violence"); with no line number. Never a line."""
    first = _first_filled(values)
    if not isinstance(first, str) or _is_number(_cell(values, columns.get("number"))):
        return False
    if SUBTOTAL_LABEL.match(first):
        return True
    match = TOTAL_LABEL.match(first)
    return bool(match) and normalise(first[match.end() :]) in section_texts


def _subtotals(rows, lines, section_rows, header_row: int) -> list[SubtotalRow]:
    """Each subtotal row with the sum of the lines it adds up: those since the previous subtotal or
    section row."""
    found = []
    for row, label, amount in rows:
        starts = [
            header_row,
            *(other for other, _, _ in rows if other < row),
            *(r for r in section_rows if r < row),
        ]
        start = max(starts)
        lines_sum = sum((line.amount for line in lines if start < line.row < row), Decimal("0.00"))
        found.append(SubtotalRow(row, label, amount, lines_sum))
    return found


def _section_or_note(values, columns, numbered: bool, sections_apply: bool) -> str:
    """A row of one text: a section row where the table leaves a thematic area or funding category to
    be said; else, in the names column of a table without numbers, a line missing its amount (so it
    is reported); elsewhere a note."""
    if sections_apply:
        return "section"
    if numbered or not is_blank(_cell(values, columns["organisation"])):
        return "line"
    return "note"


def _section_text(values) -> tuple[str, str]:
    """A section row's text and how a problem names its cell: "A (section row)"."""
    index = next(index for index, value in enumerate(values) if not is_blank(value))
    return " ".join(values[index].split()), f"{get_column_letter(index + 1)} (section row)"


def _total_row(kinds, numbered: bool) -> int:
    """The Total row: the first row labelled Total that no line follows. In a numbered table, any row
    labelled Total without a number is one (a numbered line below it is reported)."""
    candidates = [row for row, _, kind in kinds if kind == "total"]
    if numbered:
        return candidates[0] if candidates else 0
    last_line = max((row for row, _, kind in kinds if kind == "line"), default=0)
    after = [row for row in candidates if row > last_line]
    return after[0] if after else 0


def _read_line(values, row_number, columns, parsed: ParsedSheet, formula_candidates) -> SheetLine | None:
    problems_before = len(parsed.problems)

    def read(key, convert):
        index = columns.get(key)
        if index is None:
            return None
        try:
            return convert(_cell(values, index))
        except CellProblem as problem:
            parsed.problems.append(Problem(str(problem), parsed.sheet_name, row_number, parsed.column(key)))
            return None

    line_number = read("number", read_line_number)
    organisation = read("organisation", read_required_name)
    service = read("service", read_optional_name)
    thematic_area = read("thematic_area", read_required_name)
    funding_category = read("funding_category", read_required_name)
    by_year: tuple[tuple[FinancialYear, Decimal], ...] = ()
    if columns["years"]:
        amount, by_year = _read_years(values, row_number, columns, parsed, formula_candidates)
    elif _cell(values, columns["amount"]) is None:
        letter = get_column_letter(columns["amount"] + 1)
        formula_candidates.append((row_number, columns["amount"], f"{letter} (Amount)", True))
        amount = None
    else:
        amount = read("amount", read_amount)
        if "year" in columns:
            year = read("year", read_year)
            by_year = () if year is None or amount is None else ((year, amount),)
    effective_date = read("award_date", read_date)
    notes = []
    for index in columns["notes"]:
        try:
            text = read_notes(_cell(values, index))
        except CellProblem as problem:
            letter = get_column_letter(index + 1)
            parsed.problems.append(Problem(str(problem), parsed.sheet_name, row_number, f"{letter} (Notes)"))
            continue
        if text:
            heading = next((column.heading for column in parsed.columns if column.index == index), "")
            notes.append(f"{heading}: {text}" if heading and len(columns["notes"]) > 1 else text)
    if len(parsed.problems) > problems_before or amount is None:
        return None
    return SheetLine(
        row=row_number,
        line_number=line_number,
        organisation=organisation,
        service=service or "",
        thematic_area=thematic_area or "",
        funding_category=funding_category or "",
        amount=amount,
        effective_date=effective_date,
        notes="\n".join(notes),
        years=by_year,
    )


def _report_formulas(
    content: bytes,
    parsed: ParsedSheet,
    candidates: list[tuple[int, int, str, bool]],
    section_rows: dict[int, tuple[str, str]],
) -> None:
    """Empty amounts: a formula whose result Excel never saved, or a cell left blank. Say which. A
    section row whose amount is such a formula is a line after all, and reported so. Each candidate
    is (row, column index, how a problem names the column, whether an empty cell is a problem): a
    year's empty cell is not, the line has nothing that year."""
    # Only now is the workbook read a second time, with formulas instead of their saved results.
    formulas = _open(content, data_only=False)
    wanted: dict[int, list[tuple[int, str, bool]]] = {}
    for row_number, index, column, empty_is_a_problem in candidates:
        wanted.setdefault(row_number, []).append((index, column, empty_is_a_problem))
    try:
        sheet = formulas[parsed.sheet_name]
        last = max(wanted)
        for row_number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if row_number > last:
                break
            for index, column, empty_is_a_problem in wanted.get(row_number, ()):
                value = values[index] if index < len(values) else None
                if isinstance(value, str) and value.startswith("="):
                    section_rows.pop(row_number, None)
                    message = (
                        f"the amount is a formula ({value}) with no saved result; open the file in Excel, "
                        "save it, and upload it again (or type the amount)."
                    )
                elif row_number in section_rows or not empty_is_a_problem:
                    continue
                else:
                    message = "the amount is empty."
                parsed.problems.append(Problem(message, parsed.sheet_name, row_number, column))
    finally:
        formulas.close()
    parsed.problems.sort(key=lambda problem: (problem.row or 0, problem.column))
