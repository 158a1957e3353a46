"""Reading a workbook: its bytes checked, the sheet chosen, its rows taken up to the limit, and the
table read from them."""

from __future__ import annotations

from django.conf import settings

from grants.imports import ImportRefused, Problem
from grants.imports.archive import check_archive, sha256_of
from grants.imports.cells import is_blank
from grants.imports.reading._base import MAX_COLUMNS, _open
from grants.imports.reading.header import HEADER_SEARCH_ROWS, _find_header
from grants.imports.reading.mapping import Mapping
from grants.imports.reading.rows import _read_body
from grants.imports.reading.sheet import ParsedSheet
from grants.imports.reading.totals import _find_stated_total

MOJ_RETURN_SHEET = "Allocations"


def read_workbook(content: bytes, file_name: str, mapping: Mapping | None = None) -> ParsedSheet:
    """The allocation table in `content`, read as `mapping` says where it says anything, or
    ImportRefused listing why the file cannot be read.

    Row-level problems (a bad amount, say) are collected in `ParsedSheet.problems`, all of them.
    """
    check_archive(content)
    workbook = _open(content, data_only=True)
    try:
        parsed = _read_table(workbook, content, file_name, mapping or Mapping())
    finally:
        workbook.close()
    return parsed


def _worksheet_names(workbook) -> list[str]:
    """The sheets that hold cells (a chart sheet has none)."""
    return [sheet.title for sheet in workbook.worksheets]


def _choose_sheet(workbook, mapping: Mapping):
    if not workbook.worksheets:
        raise ImportRefused([Problem("The workbook has no worksheet.")])
    names = _worksheet_names(workbook)
    if mapping.sheet:
        if mapping.sheet in names:
            return workbook[mapping.sheet]
        listed = ", ".join(repr(name) for name in names)
        raise ImportRefused(
            [Problem(f"The workbook has no sheet called {mapping.sheet!r}; its sheets are {listed}.")]
        )
    if MOJ_RETURN_SHEET in names:
        return workbook[MOJ_RETURN_SHEET]
    return workbook.worksheets[0]


def _read_table(workbook, content: bytes, file_name: str, mapping: Mapping) -> ParsedSheet:
    sheet = _choose_sheet(workbook, mapping)
    parsed = ParsedSheet(
        file_name=file_name,
        sha256=sha256_of(content),
        sheet_name=sheet.title,
        is_moj_return=MOJ_RETURN_SHEET in workbook.sheetnames and "About" in workbook.sheetnames,
        sheet_names=_worksheet_names(workbook),
    )
    rows = _rows(sheet, parsed)
    try:
        columns = _find_header(rows, parsed, mapping)
    except ImportRefused as refused:
        # A header the headings do not explain is for the officer's mapping to say: keep what was read.
        refused.sheet = parsed
        raise
    if len(rows) - parsed.header_row > settings.LEDGER_IMPORT_MAX_ROWS:
        raise _too_many_rows(parsed)
    body = [(number, values) for number, values in enumerate(rows, start=1) if number > parsed.header_row]
    _read_body(body, columns, parsed, content)
    if parsed.has_column("year"):
        parsed.years = sorted({year for line in parsed.lines for year, _ in line.years})
    _find_stated_total(rows, parsed)
    if not parsed.lines and not parsed.problems:
        parsed.problems.append(Problem("The table has no lines below its header row.", sheet.title))
    return parsed


def _rows(sheet, parsed: ParsedSheet) -> list[tuple]:
    """The sheet's rows (trailing blank rows dropped), refused past the row limit."""
    limit = HEADER_SEARCH_ROWS + settings.LEDGER_IMPORT_MAX_ROWS
    rows = []
    for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
        rows.append(values)
        if len(rows) > limit:
            raise _too_many_rows(parsed)
    while rows and all(is_blank(value) for value in rows[-1]):
        rows.pop()
    return rows


def _too_many_rows(parsed: ParsedSheet) -> ImportRefused:
    return ImportRefused(
        [
            Problem(
                f"The table has more than {settings.LEDGER_IMPORT_MAX_ROWS:,} rows; split it into "
                "smaller files.",
                parsed.sheet_name,
            )
        ]
    )
