"""The table as read: its lines, section rows, subtotals and columns, before any is matched to the ledger."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl.utils import get_column_letter

from grants.imports import Problem
from grants.imports.reading.headings import FIELD_BY_KEY
from grants.years import FinancialYear


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
    # A table with a column for each year: the Total row's figure in each year's column that has one.
    stated_year_totals: dict[FinancialYear, Decimal] = field(default_factory=dict)
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
