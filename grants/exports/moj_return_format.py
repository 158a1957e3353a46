"""The MoJ return's shape: its data types, columns, cell formats, the data digest and the formulas
its sheets use; no database and no workbook."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

import xlsxwriter
from djmoney.money import Money

from grants import money
from grants.reconciliation import FundReconciliation
from grants.reconciliation.outturn import FundOutturn
from grants.years import FinancialYear

MONEY_FORMAT = "£#,##0.00"


DATE_FORMAT = "d mmmm yyyy"


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


TABLE_COLUMNS = [
    ("No.", 6),
    ("Organisation", 48),
    ("Service", 28),
    ("Thematic area", 18),
    ("Amount (£)", 16),
    ("Extraordinary funding category", 30),
]


HEADER_ROW = 6  # zero-based: the title block sits above it


FIRST_LINE_ROW = HEADER_ROW + 1


AMOUNT_COLUMN, THEME_COLUMN, CATEGORY_COLUMN = 4, 3, 5


class AllocationColumns(NamedTuple):
    """Where the Allocations sheet puts its columns: `TABLE_COLUMNS` for a fund without a profile
    or one year's return; for a fund with a profile, a column per year before the amount, which
    becomes their total."""

    headers: list[tuple[str, int]]
    amount: int
    category: int
    years: range  # the year columns, empty without


def allocation_columns(data: MojReturnData) -> AllocationColumns:
    if data.year is not None:
        headers = list(TABLE_COLUMNS)
        headers[AMOUNT_COLUMN] = (f"Amount {data.year.label} (£)", 16)
        return AllocationColumns(headers, AMOUNT_COLUMN, CATEGORY_COLUMN, range(0))
    if not data.years:
        return AllocationColumns(TABLE_COLUMNS, AMOUNT_COLUMN, CATEGORY_COLUMN, range(0))
    years = [(f"{year.label} (£)", 14) for year in data.years]
    headers = [*TABLE_COLUMNS[:AMOUNT_COLUMN], *years, ("Total (£)", 16), *TABLE_COLUMNS[AMOUNT_COLUMN + 1 :]]
    amount = AMOUNT_COLUMN + len(years)
    return AllocationColumns(headers, amount, amount + 1, range(AMOUNT_COLUMN, amount))


class ReturnLine(NamedTuple):
    """One line of the return; a named tuple, the cheapest to build one per line
    (docs/performance.md)."""

    line_number: int
    organisation: str
    service: str
    thematic_area: str
    funding_category: str
    amount: Decimal  # pounds, exactly two decimal places
    # For a fund with a profile, the line's amount in each of the return's years (None: nothing
    # dated in it), in the order of `MojReturnData.years`; empty otherwise.
    by_year: tuple[Decimal | None, ...] = ()

    def digest_record(self) -> list:
        record = [
            self.line_number,
            self.organisation,
            self.service,
            self.thematic_area,
            self.funding_category,
            f"{self.amount:.2f}",
        ]
        # A fund with a profile: the line's amount in each year too (a fund without one, like the
        # seed fund, keeps the record it always had).
        if self.by_year:
            record.append([None if amount is None else f"{amount:.2f}" for amount in self.by_year])
        return record


@dataclass(frozen=True)
class MojReturnData:
    """Everything the return shows, as plain values. `lines` may be a one-pass iterator."""

    funder: str
    fund_name: str
    fund_code: str
    spend_start: datetime.date
    spend_end: datetime.date
    recipient: str
    prepared_by: str
    prepared_at: datetime.datetime
    product_version: str
    reconciliation: FundReconciliation
    lines: Iterable[ReturnLine]
    outturn: FundOutturn
    # The year of a return for one financial year; None for the whole fund's.
    year: FinancialYear | None = None
    # The years of the whole fund's allocations, a column each, for a fund with a profile.
    years: tuple[FinancialYear, ...] = ()
    # The variance an approver confirmed when submitting the return; None for a download.
    submitted_variance: Money | None = None

    @property
    def title(self) -> str:
        return self.fund_name if self.year is None else f"{self.fund_name}, {self.year.label}"

    def digest_header(self) -> dict:
        """The fund-level facts the data digest covers, besides the lines."""
        rec = self.reconciliation
        # Said only of a return for one year, so the whole fund's digest stays as it was.
        year = {} if self.year is None else {"year": self.year.label}
        return {
            **year,
            "fund": self.fund_code,
            "fund_name": self.fund_name,
            "funder": self.funder,
            "spend_start": self.spend_start.isoformat(),
            "spend_end": self.spend_end.isoformat(),
            "control_total": money.as_string(rec.control_total),
            "budgets": {
                row.code: money.as_string(row.budget) for row in rec.by_category if row.budget is not None
            },
            **self._years_digest(),
        }

    def _years_digest(self) -> dict:
        """For a whole return by year, each year's control total in effect (with the carry-forwards)."""
        if not self.years:
            return {}
        return {
            "years": {column.label: money.as_string(column.control_total) for column in self.outturn.years}
        }


@dataclass(frozen=True)
class BuildResult:
    line_count: int
    data_sha256: str


DIGEST_EXPLANATION = (
    "SHA-256 of the fund's facts (code, name, funder, spend period, control total, category budgets) "
    "and of every line (number, organisation, service, thematic area, category, amount), each as one "
    "line of compact JSON. Generation time and user are not included: the same data gives the same hash."
)
# Added to the explanation for a fund with a profile, whose digest covers its years as well.
DIGEST_EXPLANATION_BY_YEAR = (
    " For a fund with a control total for each financial year, the facts include each year's control "
    "total and each line its amount in each year."
)


def json_line(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode() + b"\n"


# What json.dumps(ensure_ascii=False) writes for a string: quoted, with quotes, backslashes and
# control characters escaped, and everything else as it is.
_json_string = json.encoder.encode_basestring


def digest_line(line: ReturnLine) -> bytes:
    """`json_line(line.digest_record())`, byte for byte, written directly: json.dumps() builds an
    encoder on every call, which for a line of one number and five strings took longer than the
    rest of the line's digest (tests/grants/test_moj_return.py holds the two to the same bytes)."""
    if line.by_year:
        return json_line(line.digest_record())
    return (
        f"[{line.line_number:d},{_json_string(line.organisation)},{_json_string(line.service)},"
        f'{_json_string(line.thematic_area)},{_json_string(line.funding_category)},"{line.amount:.2f}"]\n'
    ).encode()


def describe_variance_formula(variance_cell: str) -> str:
    """The status in words as a live formula, worded as `reconciliation.describe_variance`."""
    amount = f'TEXT(ABS({variance_cell}),"{MONEY_FORMAT}")'
    return (
        f'=IF({variance_cell}=0,"The allocations add up exactly to the control total.",'
        f'IF({variance_cell}>0,"The allocations come to "&{amount}&" more than the control total.",'
        f'"The allocations come to "&{amount}&" less than the control total."))'
    )


def sumifs_criterion(cell: str) -> str:
    """SUMIFS matches with wildcards (* ? ~); escape them so a name only ever matches itself."""
    return f'"="&SUBSTITUTE(SUBSTITUTE(SUBSTITUTE({cell},"~","~~"),"*","~*"),"?","~?")'


class Formats:
    def __init__(self, workbook: xlsxwriter.Workbook):
        self.title = workbook.add_format({"bold": True, "font_size": 14, "text_wrap": True, "valign": "top"})
        self.label = workbook.add_format({"bold": True})
        # Indented as the text below it, which keeps it clear of a right-aligned heading before it.
        self.header = workbook.add_format(
            {
                "bold": True,
                "bottom": 2,
                "text_wrap": True,
                "align": "left",
                "valign": "bottom",
                "bg_color": "#DDE5F0",
                "indent": 1,
            }
        )
        # Wrapped, so a heading wider than its column takes a second line instead of running into
        # the next heading.
        self.header_number = workbook.add_format(
            {
                "bold": True,
                "bottom": 2,
                "align": "right",
                "valign": "bottom",
                "bg_color": "#DDE5F0",
                "text_wrap": True,
            }
        )
        self.money = workbook.add_format({"num_format": MONEY_FORMAT})
        self.money_bold = workbook.add_format({"num_format": MONEY_FORMAT, "bold": True})
        self.money_bold_top = workbook.add_format({"num_format": MONEY_FORMAT, "bold": True, "valign": "top"})
        self.total_label = workbook.add_format({"bold": True, "top": 2})
        self.total_money = workbook.add_format({"bold": True, "top": 2, "num_format": MONEY_FORMAT})
        self.total_blank = workbook.add_format({"top": 2})
        self.date = workbook.add_format({"num_format": DATE_FORMAT, "align": "left", "valign": "top"})
        # A little space between a right-aligned figure and the text beside it.
        self.text = workbook.add_format({"indent": 1, "text_wrap": True})
        # A line's service and thematic area: a long one wraps (Excel and LibreOffice make a row
        # without a set height as tall as its wrapped text) instead of being cut by the next column.
        self.text_plain = workbook.add_format({"text_wrap": True})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        # A label beside a value that wraps, level with its first line.
        self.label_top = workbook.add_format({"bold": True, "valign": "top"})
        self.wrap_bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        # A variance that is not nil, picked out wherever it is (a conditional format).
        self.flag = workbook.add_format({"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"})
        self.integer = workbook.add_format({"num_format": "0"})


class GroupTally:
    """The lines written in one (thematic area, funding category): how many and their total."""

    __slots__ = ("count", "tally")

    def __init__(self) -> None:
        self.count, self.tally = 0, money.Tally()
