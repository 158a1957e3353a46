"""Reading an allocation table out of an uploaded .xlsx, defensively and without the database.

An upload is untrusted. Before openpyxl sees it, the bytes are checked: the size limit, that it is a
zip archive at all (an encrypted workbook or an old .xls is an OLE file, said so in words), that its
members do not unpack to more than a limit or at a ratio only a zip bomb has, and that no XML part
declares a DTD or entities (an XML bomb; openpyxl also parses through defusedxml, which the
`grants.E001` system check insists on).

Then the table is found as an office publishes it. Its header row is the first with an amount heading
("Amount", "Award", "Grant", "£", ...); each column is read by its heading's common synonyms
("Organisation", "Provider", "Recipient", "Service provider", ...), by a heading close to one of them
("Provided"), or as the officer's `Mapping` says; a column with no heading over text is the names.
Below the header, each row is a line, a **section row** (one cell of text and no amount, such as
"Sexual Violence Support", whose meaning `planning` resolves), a Total row, or a note. A Total row is
recognised by its label only where no line follows it, so "Total Insight Theatre" in the middle of a
table is a line. A total stated in a title or a sentence instead is read when it is the only one.

Amounts are converted exactly: a number cell's value goes through `Decimal(str(value))` (the shortest
repr of the double Excel stored, so a cell showing £80,528.42 gives 80528.42); text is refused with
its cell named ("£22,10" is not an amount), never guessed at.
"""

from __future__ import annotations

import datetime
import difflib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
from defusedxml import DefusedXmlException
from django.conf import settings
from openpyxl.utils import column_index_from_string, get_column_letter

from grants import money
from grants.imports import ImportRefused, Problem
from grants.imports.archive import check_archive, sha256_of
from grants.imports.cells import (
    CellProblem,
    is_blank,
    read_amount,
    read_date,
    read_line_number,
    read_notes,
    read_optional_name,
    read_required_name,
    read_stated_line_total,
    read_year,
    read_year_amount,
)
from grants.years import YEAR_TEXT, FinancialYear, parse_year

HEADER_SEARCH_ROWS = 30


MAX_COLUMNS = 40


MOJ_RETURN_SHEET = "Allocations"


def normalise(text: str) -> str:
    """Text compared ignoring case, spacing and punctuation: "Women's  Aid," and "womens aid" match."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(character for character in folded if character.isalnum())


@dataclass(frozen=True)
class Field:
    """What a column of an allocation table can be: its key (as `--column` names it), the ledger's
    title for it, and the headings that mean it, normalised."""

    key: str
    title: str
    headings: frozenset[str]


FIELDS = [
    Field("number", "No.", frozenset({"no", "number", "lineno", "linenumber", "line", "ref", "reference"})),
    Field(
        "organisation",
        "Organisation",
        frozenset(
            {
                "organisation",
                "organization",
                "organisationname",
                "provider",
                "providername",
                "serviceprovider",
                "recipient",
                "recipientorganisation",
                "grantee",
            }
        ),
    ),
    Field("service", "Service", frozenset({"service", "servicename", "project", "projectname"})),
    Field("thematic_area", "Thematic area", frozenset({"thematicarea", "theme", "area"})),
    Field(
        "amount",
        "Amount",
        frozenset(
            {
                "amount",
                "amountgbp",
                "amountawarded",
                "allocation",
                "allocated",
                "award",
                "awarded",
                "grant",
                "grantamount",
                "grantawarded",
                "grantvalue",
                "value",
                "funding",
                "fundingamount",
                "fundingawarded",
                "amountfunded",
            }
        ),
    ),
    Field(
        "funding_category",
        "Funding category",
        frozenset({"extraordinaryfundingcategory", "fundingcategory", "category", "fundingstream", "stream"}),
    ),
    Field("award_date", "Award date", frozenset({"date", "awarddate", "effectivedate", "dateawarded"})),
    Field(
        "notes",
        "Notes",
        frozenset({"notes", "note", "furtherdetail", "furtherdetails", "detail", "details", "comments"}),
    ),
    # A table by year: a Year column beside one amount column, each row a line's amount for that year.
    Field("year", "Financial year", frozenset({"year", "financialyear", "fy"})),
    # Beside year amount columns, a line's total: checked against its years, never imported.
    Field("total", "Total", frozenset({"total", "totals", "linetotal", "grandtotal"})),
]


FIELD_BY_KEY = {item.key: item for item in FIELDS}


FIELD_BY_HEADING = {heading: item for item in FIELDS for heading in item.headings}


IGNORE = "ignore"


IGNORE_FIELD = Field(IGNORE, "ignored", frozenset())


# What a column can be mapped to, in the order the preview offers them.
FIELD_CHOICES = [(item.key, item.title) for item in FIELDS] + [(IGNORE, "Ignore this column")]


# The fields of which a table has one column at most; notes can come from several.
SINGLE_FIELDS = {item.key for item in FIELDS} - {"notes"}


CURRENCY_HEADINGS = {"£", "(£)", "£s", "gbp", "£gbp"}


def is_currency_heading(value) -> bool:
    """A heading that is only a currency sign ("£", "(£)", "GBP"), over a column of amounts."""
    return isinstance(value, str) and value.strip().casefold().replace(" ", "") in CURRENCY_HEADINGS


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


def field_for_heading(value) -> tuple[Field | None, str]:
    """The field a heading names and how it was read: what is in brackets ("Amount (£)") is a note
    and ignored; a heading a letter from a synonym ("Provided") is read as it, and says so."""
    if not isinstance(value, str) or not value.strip():
        return None, ""
    if is_currency_heading(value):
        return FIELD_BY_KEY["amount"], "heading"
    key = normalise(re.sub(r"\(.*?\)", "", value))
    if key in FIELD_BY_HEADING:
        return FIELD_BY_HEADING[key], "heading"
    if 5 <= len(key) <= 30:
        # A misprint, not another word: the same length give or take a letter, and all but a letter
        # or two alike ("Provided" for Provider; not "Granted" for Grantee, nor "Awarded to").
        candidates = [heading for heading in FIELD_BY_HEADING if abs(len(heading) - len(key)) <= 1]
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.87)
        if close:
            return FIELD_BY_HEADING[close[0]], f"heading close to {close[0]!r}"
    return None, ""


@dataclass(frozen=True)
class Mapping:
    """What the officer says about a file where its headings do not: which sheet to read, which
    column is which (`columns`: field key or IGNORE, and the column's heading as printed or its
    letter), a thematic area and funding category for lines that name none, and what a text in a
    category column or a section row means (`values`: the text, and a funding category's or
    thematic area's name or code, or "funding_category:CODE" / "thematic_area:CODE" to set that field
    only). The empty mapping reads a file by its headings alone."""

    sheet: str = ""
    columns: tuple[tuple[str, str], ...] = ()
    thematic_area: str = ""
    funding_category: str = ""
    values: tuple[tuple[str, str], ...] = ()

    def as_record(self) -> dict:
        """The mapping in plain JSON types, for the preview's digest."""
        return {
            "sheet": self.sheet,
            "columns": [list(pair) for pair in self.columns],
            "thematic_area": self.thematic_area,
            "funding_category": self.funding_category,
            "values": [list(pair) for pair in self.values],
        }


@dataclass(frozen=True)
class ColumnReading:
    """One column of the header row and what it was read as (`key` is a field key, or "" when the
    column is ignored), for the preview to show and let the officer change."""

    index: int
    heading: str
    key: str
    how: str
    year: FinancialYear | None = None  # a column of one year's amounts (key "year_amount")

    @property
    def letter(self) -> str:
        return get_column_letter(self.index + 1)

    @property
    def title(self) -> str:
        if self.year is not None:
            return f"{self.year.label} amount"
        return FIELD_BY_KEY[self.key].title if self.key else "ignored"


@dataclass(frozen=True)
class Section:
    """A row of text with no amount between lines: it says what the lines below it are."""

    row: int
    text: str
    column: str  # its cell's letter


@dataclass(frozen=True)
class SubtotalRow:
    """A row adding up part of the table ("Subtotal", "Total Sexual Violence"): shown beside the sum of
    the lines it covers, never imported."""

    row: int
    label: str
    amount: Decimal | None
    lines_sum: Decimal

    @property
    def differs(self) -> bool:
        return self.amount is not None and self.amount != self.lines_sum


@dataclass(frozen=True)
class SheetLine:
    """One row of the table, as the sheet has it (names not yet matched to the ledger)."""

    row: int
    line_number: int | None  # None when the table has no number column
    organisation: str
    service: str  # "" when the sheet has no Service column or the cell is empty
    thematic_area: str  # "" when the table has no such column (a section row or the mapping says)
    funding_category: str
    amount: Decimal  # in a table by year, the sum of the line's years
    effective_date: datetime.date | None
    notes: str = ""
    # In a table by year, the line's amount for each year that has one, in order.
    years: tuple[tuple[FinancialYear, Decimal], ...] = ()


@dataclass
class ParsedSheet:
    file_name: str
    sha256: str
    sheet_name: str
    is_moj_return: bool
    sheet_names: list[str] = field(default_factory=list)
    lines: list[SheetLine] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    subtotals: list[SubtotalRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    stated_total: Decimal | None = None  # the table's own total, where it states one unambiguously
    stated_total_source: str = ""  # where it says so: "the Total row (row 20)", "the title (row 1)"
    stated_totals_ignored: list[tuple[int, Decimal]] = field(default_factory=list)  # ambiguous ones
    header_row: int = 0
    total_row: int = 0
    columns: list[ColumnReading] = field(default_factory=list)
    column_letters: dict[str, str] = field(default_factory=dict)  # field key -> its letter, e.g. "B"
    # A table by year: the letter of each year's amount column, by the year it starts in.
    year_columns: dict[int, str] = field(default_factory=dict)
    # The years the file gives amounts for: its year columns', or those its Year column names.
    years: list[FinancialYear] = field(default_factory=list)

    @property
    def by_year(self) -> bool:
        """The table gives amounts by financial year: a column for each year, or a Year column."""
        return bool(self.year_columns) or self.has_column("year")

    def year_column(self, year: FinancialYear) -> str:
        """How a problem names the column a year's amount is in: "C (2023-24 amount)", or the Year column."""
        letter = self.year_columns.get(year.start_year)
        return f"{letter} ({year.label} amount)" if letter else self.column("year")

    def column(self, key: str) -> str:
        """How a problem names a column: its letter and the ledger's title, e.g. "B (Organisation)"."""
        title = FIELD_BY_KEY[key].title
        letter = self.column_letters.get(key)
        return f"{letter} ({title})" if letter else title

    def has_column(self, key: str) -> bool:
        return key in self.column_letters

    @property
    def layout(self) -> str:
        return "the ledger's MoJ return" if self.is_moj_return else "an allocation table"

    @property
    def other_sheet_names(self) -> list[str]:
        return [name for name in self.sheet_names if name != self.sheet_name]


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


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _cell(values, index: int | None):
    return values[index] if index is not None and index < len(values) else None


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


def _mapped_index(reference: str, header: tuple) -> int | None:
    """The column a mapping names, by its heading as printed (capitals and punctuation aside) or by
    its letter; None when the header row has neither."""
    wanted, printed = normalise(reference), reference.strip()
    for index, value in enumerate(header):
        if value is None:
            continue
        text = str(value).strip()
        if (wanted and normalise(text) == wanted) or (printed and text == printed):
            return index
    if re.fullmatch(r"[A-Za-z]{1,3}", printed):
        index = column_index_from_string(printed.upper()) - 1
        if index < MAX_COLUMNS:
            return index
    return None


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


def _amount_indexes(columns) -> list[int]:
    """The column of the lines' amounts, or the columns of their years' amounts."""
    return [columns["amount"]] if "amount" in columns else [index for index, _ in columns["years"]]


def _unheaded_text_column(rows, readings) -> int | None:
    """The column with no heading whose cells below are text in the most rows, if any are."""
    counts = {}
    for index, heading, key, *_ in readings:
        if heading or key:
            continue
        counts[index] = sum(1 for values in rows if _text(_cell(values, index)))
    best = max(counts, key=lambda index: (counts[index], -index), default=None)
    return best if best is not None and counts[best] else None


TOTAL_LABEL = re.compile(r"\s*(grand\s+)?totals?\b", re.IGNORECASE)


def _first_filled(values):
    return next((value for value in values if not is_blank(value)), None)


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
