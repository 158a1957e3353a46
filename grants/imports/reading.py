"""Reading an allocation table out of an uploaded .xlsx, defensively and without the database.

An upload is untrusted. Before openpyxl sees it, the bytes are checked: the size limit, that it is a
zip archive at all (an encrypted workbook or an old .xls is an OLE file, said so in words), that its
members do not unpack to more than a limit or at a ratio only a zip bomb has, and that no XML part
declares a DTD or entities (an XML bomb; openpyxl also parses through defusedxml, which the
`grants.E001` system check insists on). Then the table is found below any title rows, its columns are
recognised by their headings, and each row becomes a `SheetLine` or a `Problem` naming the sheet, row
and column. Amounts are converted exactly: a number cell's value goes through `Decimal(str(value))`
(the shortest repr of the double Excel stored, so a cell showing £80,528.42 gives 80528.42), text
that looks like a number is refused as "stored as text" rather than guessed at.
"""

from __future__ import annotations

import datetime
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
from defusedxml import DefusedXmlException
from django.conf import settings
from openpyxl.utils import get_column_letter

from grants.imports import ImportRefused, Problem
from grants.imports.archive import check_archive, sha256_of
from grants.imports.cells import (
    CellProblem,
    read_amount,
    read_date,
    read_line_number,
    read_optional_name,
    read_required_name,
)

HEADER_SEARCH_ROWS = 30


MAX_COLUMNS = 40


MOJ_RETURN_SHEET = "Allocations"


def normalise(text: str) -> str:
    """Text compared ignoring case, spacing and punctuation: "Women's  Aid," and "womens aid" match."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(character for character in folded if character.isalnum())


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    headings: frozenset[str]
    required: bool = True


COLUMNS = [
    Column("line_number", "No.", frozenset({"no", "number", "lineno", "linenumber", "line"})),
    Column("organisation", "Organisation", frozenset({"organisation", "organization", "provider"})),
    Column("service", "Service", frozenset({"service"}), required=False),
    Column("thematic_area", "Thematic area", frozenset({"thematicarea", "theme"})),
    Column("amount", "Amount", frozenset({"amount", "amountgbp", "allocation", "award"})),
    Column(
        "funding_category",
        "Extraordinary funding category",
        frozenset({"extraordinaryfundingcategory", "fundingcategory", "category"}),
    ),
    Column("effective_date", "Award date", frozenset({"date", "awarddate", "effectivedate"}), required=False),
]


COLUMN_BY_HEADING = {heading: column for column in COLUMNS for heading in column.headings}


def column_for_heading(value) -> Column | None:
    """The column a heading names; what is in brackets ("Amount (£)") is a note and ignored."""
    if not isinstance(value, str):
        return None
    return COLUMN_BY_HEADING.get(normalise(re.sub(r"\(.*?\)", "", value)))


@dataclass(frozen=True)
class SheetLine:
    """One row of the table, as the sheet has it (names not yet matched to the ledger)."""

    row: int
    line_number: int
    organisation: str
    service: str  # "" when the sheet has no Service column or the cell is empty
    thematic_area: str
    funding_category: str
    amount: Decimal
    effective_date: datetime.date | None


@dataclass
class ParsedSheet:
    file_name: str
    sha256: str
    sheet_name: str
    is_moj_return: bool
    lines: list[SheetLine] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    stated_total: Decimal | None = None  # what the sheet's Total row says, if it says a figure
    header_row: int = 0
    total_row: int = 0
    column_letters: dict[str, str] = field(default_factory=dict)  # column key -> its letter, e.g. "B"

    def column(self, key: str) -> str:
        """How a problem names a column: its letter and the ledger's title, e.g. "B (Organisation)"."""
        title = next(column.title for column in COLUMNS if column.key == key)
        letter = self.column_letters.get(key)
        return f"{letter} ({title})" if letter else title

    @property
    def layout(self) -> str:
        return "the ledger's MoJ return" if self.is_moj_return else "an allocation table"


def read_workbook(content: bytes, file_name: str) -> ParsedSheet:
    """The allocation table in `content`, or ImportRefused listing why the file cannot be read.

    Row-level problems (a bad amount, say) are collected in `ParsedSheet.problems`, all of them.
    """
    check_archive(content)
    workbook = _open(content, data_only=True)
    try:
        parsed = _read_table(workbook, content, file_name)
    finally:
        workbook.close()
    return parsed


def _open(content: bytes, *, data_only: bool):
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it does not read; they do not matter here.
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=data_only)
    except Exception as error:  # openpyxl raises many kinds for a damaged file; all mean the same
        cause = error.__cause__ or error.__context__
        if isinstance(error, DefusedXmlException) or isinstance(cause, DefusedXmlException):
            raise ImportRefused(
                [Problem("The workbook declares XML entities or a DTD (an XML bomb?); it is not imported.")]
            ) from error
        raise ImportRefused(
            [Problem(f"The workbook is damaged and cannot be read ({type(error).__name__}: {error}).")]
        ) from error


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _is_blank(values) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _read_table(workbook, content: bytes, file_name: str) -> ParsedSheet:
    if not workbook.worksheets:
        raise ImportRefused([Problem("The workbook has no worksheet.")])
    is_moj_return = MOJ_RETURN_SHEET in workbook.sheetnames and "About" in workbook.sheetnames
    sheet = workbook[MOJ_RETURN_SHEET] if MOJ_RETURN_SHEET in workbook.sheetnames else workbook.worksheets[0]
    parsed = ParsedSheet(
        file_name=file_name, sha256=sha256_of(content), sheet_name=sheet.title, is_moj_return=is_moj_return
    )
    rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    columns = _find_header(rows, parsed)
    max_rows = settings.LEDGER_IMPORT_MAX_ROWS
    formula_candidates: list[tuple[int, int]] = []
    row_number = parsed.header_row
    for values in rows:
        row_number += 1
        if row_number - parsed.header_row > max_rows:
            raise ImportRefused(
                [
                    Problem(
                        f"The table has more than {max_rows:,} rows; split it into smaller files.",
                        sheet.title,
                    )
                ]
            )
        if _is_blank(values):
            continue
        if parsed.total_row:
            if _is_number(_cell(values, columns["line_number"])):
                parsed.problems.append(
                    Problem(
                        f"a line below the Total row (row {parsed.total_row}); move it above the Total row.",
                        parsed.sheet_name,
                        row_number,
                        parsed.column("line_number"),
                    )
                )
            continue  # notes under the table are not lines
        if _is_total_row(values, columns):
            parsed.total_row = row_number
            parsed.stated_total = _stated_total(values)
            continue
        line = _read_line(values, row_number, columns, parsed, formula_candidates)
        if line is not None:
            parsed.lines.append(line)
    if formula_candidates:
        _report_formulas(content, parsed, formula_candidates)
    if not parsed.lines and not parsed.problems:
        parsed.problems.append(Problem("The table has no lines below its header row.", sheet.title))
    return parsed


def _find_header(rows, parsed: ParsedSheet) -> dict[str, int]:
    """Read rows until the header (the first with Organisation and Amount headings); map its columns."""
    for row_number, values in enumerate(rows, start=1):
        if row_number > HEADER_SEARCH_ROWS:
            break
        found = {index: column_for_heading(value) for index, value in enumerate(values)}
        keys = {column.key for column in found.values() if column is not None}
        if not {"organisation", "amount"} <= keys:
            continue
        parsed.header_row = row_number
        return _map_header(values, found, row_number, parsed)
    titles = ", ".join(column.title for column in COLUMNS if column.required)
    raise ImportRefused(
        [
            Problem(
                f"No header row found in the first {HEADER_SEARCH_ROWS} rows: the table needs the columns "
                f"{titles} (and optionally Service).",
                parsed.sheet_name,
            )
        ]
    )


def _map_header(values, found, row_number: int, parsed: ParsedSheet) -> dict[str, int]:
    problems = []
    columns: dict[str, int] = {}
    for index, value in enumerate(values):
        letter = get_column_letter(index + 1)
        column = found[index]
        if column is None:
            if _text(value):
                known = ", ".join(column.title for column in COLUMNS)
                problems.append(
                    Problem(
                        f"the heading {value.strip()!r} is not a column the ledger knows ({known}).",
                        parsed.sheet_name,
                        row_number,
                        letter,
                    )
                )
            elif value is not None and not isinstance(value, str):
                problems.append(
                    Problem(
                        f"the heading {value!r} is not a column name.", parsed.sheet_name, row_number, letter
                    )
                )
            continue
        if column.key in columns:
            first = get_column_letter(columns[column.key] + 1)
            problems.append(
                Problem(
                    f"a second {column.title} column (the first is column {first}).",
                    parsed.sheet_name,
                    row_number,
                    letter,
                )
            )
            continue
        columns[column.key] = index
    for column in COLUMNS:
        if column.required and column.key not in columns:
            problems.append(Problem(f"the {column.title} column is missing.", parsed.sheet_name, row_number))
    if problems:
        raise ImportRefused(problems)
    parsed.column_letters = {key: get_column_letter(index + 1) for key, index in columns.items()}
    return columns


TOTAL_LABEL = re.compile(r"\s*(grand\s+)?totals?\b", re.IGNORECASE)


def _cell(values, index: int):
    return values[index] if index < len(values) else None


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_total_row(values, columns: dict[str, int]) -> bool:
    """A row whose first filled cell says Total ("Total", "Total = £738,810.53") and that has no line
    number: an organisation called "Total Support" on a numbered line is still a line."""
    first = next((value for value in values if value is not None and _text(value) != ""), None)
    if not isinstance(first, str) or not TOTAL_LABEL.match(first):
        return False
    return not _is_number(_cell(values, columns["line_number"]))


def _stated_total(values) -> Decimal | None:
    for value in values:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Decimal(str(value))
    for value in values:
        match = re.search(r"£?\s*(\d[\d,]*\.\d{2})\b", _text(value))
        if match:
            return Decimal(match.group(1).replace(",", ""))
    return None


def _read_line(values, row_number, columns, parsed: ParsedSheet, formula_candidates) -> SheetLine | None:
    problems_before = len(parsed.problems)

    def cell(key):
        index = columns.get(key)
        if index is None or index >= len(values):
            return None
        return values[index]

    def read(key, title, convert):
        try:
            return convert(cell(key))
        except CellProblem as problem:
            letter = get_column_letter(columns[key] + 1)
            parsed.problems.append(
                Problem(str(problem), parsed.sheet_name, row_number, f"{letter} ({title})")
            )
            return None

    line_number = read("line_number", "No.", read_line_number)
    organisation = read("organisation", "Organisation", read_required_name)
    service = read("service", "Service", read_optional_name) if "service" in columns else ""
    thematic_area = read("thematic_area", "Thematic area", read_required_name)
    funding_category = read("funding_category", "Funding category", read_required_name)
    amount_value = cell("amount")
    if amount_value is None:
        formula_candidates.append((row_number, columns["amount"]))
        amount = None
    else:
        amount = read("amount", "Amount", read_amount)
    effective_date = read("effective_date", "Award date", read_date) if "effective_date" in columns else None
    if len(parsed.problems) > problems_before or amount is None:
        return None
    return SheetLine(
        row=row_number,
        line_number=line_number,
        organisation=organisation,
        service=service or "",
        thematic_area=thematic_area,
        funding_category=funding_category,
        amount=amount,
        effective_date=effective_date,
    )


def _report_formulas(content: bytes, parsed: ParsedSheet, candidates: list[tuple[int, int]]) -> None:
    """Empty amounts: a formula whose result Excel never saved, or a cell left blank. Say which."""
    # Only now is the workbook read a second time, with formulas instead of their saved results.
    formulas = _open(content, data_only=False)
    wanted = dict(candidates)
    try:
        sheet = formulas[parsed.sheet_name]
        last = max(wanted)
        for row_number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if row_number > last:
                break
            if row_number not in wanted:
                continue
            index = wanted[row_number]
            value = values[index] if index < len(values) else None
            letter = get_column_letter(index + 1)
            if isinstance(value, str) and value.startswith("="):
                message = (
                    f"the amount is a formula ({value}) with no saved result; open the file in Excel, "
                    "save it, and upload it again (or type the amount)."
                )
            else:
                message = "the amount is empty."
            parsed.problems.append(Problem(message, parsed.sheet_name, row_number, f"{letter} (Amount)"))
    finally:
        formulas.close()
    parsed.problems.sort(key=lambda problem: (problem.row or 0, problem.column))
