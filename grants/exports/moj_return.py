"""The Ministry of Justice return: the workbook an office sends to account for a fund.

`build_moj_return()` is a pure builder: it takes a `MojReturnData` (plain values from
`grants.exports.moj_return_data`) and writes an .xlsx with XlsxWriter, which stores each formula's
computed result beside the formula, so a previewer or a program reading cell values sees the totals
without recalculating. The workbook also asks Excel to recalculate on open.

It streams: XlsxWriter's `constant_memory` mode writes each row to disk as it goes, and the lines come
from a database iterator, so a fund of 100,000 lines is never held in memory. Text that came from users
is always written with `write_string`, so a name beginning with `=` stays text and never becomes a
live formula.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO, NamedTuple

import xlsxwriter
from djmoney.money import Money
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from grants import money
from grants.reconciliation import FundReconciliation, Subtotal

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


class ReturnLine(NamedTuple):
    """One line of the return; a named tuple, the cheapest to build one per line
    (docs/performance.md)."""

    line_number: int
    organisation: str
    service: str
    thematic_area: str
    funding_category: str
    amount: Decimal  # pounds, exactly two decimal places

    def digest_record(self) -> list:
        return [
            self.line_number,
            self.organisation,
            self.service,
            self.thematic_area,
            self.funding_category,
            f"{self.amount:.2f}",
        ]


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

    def digest_header(self) -> dict:
        """The fund-level facts the data digest covers, besides the lines."""
        rec = self.reconciliation
        return {
            "fund": self.fund_code,
            "fund_name": self.fund_name,
            "funder": self.funder,
            "spend_start": self.spend_start.isoformat(),
            "spend_end": self.spend_end.isoformat(),
            "control_total": money.as_string(rec.control_total),
            "budgets": {
                row.code: money.as_string(row.budget) for row in rec.by_category if row.budget is not None
            },
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


def _json_line(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode() + b"\n"


# What json.dumps(ensure_ascii=False) writes for a string: quoted, with quotes, backslashes and
# control characters escaped, and everything else as it is.
_json_string = json.encoder.encode_basestring


def _digest_line(line: ReturnLine) -> bytes:
    """`_json_line(line.digest_record())`, byte for byte, written directly: json.dumps() builds an
    encoder on every call, which for a line of one number and five strings took longer than the
    rest of the line's digest (tests/grants/test_moj_return.py holds the two to the same bytes)."""
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


class _Formats:
    def __init__(self, workbook: xlsxwriter.Workbook):
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.label = workbook.add_format({"bold": True})
        self.header = workbook.add_format(
            {"bold": True, "bottom": 2, "text_wrap": True, "valign": "bottom", "bg_color": "#DDE5F0"}
        )
        self.header_number = workbook.add_format(
            {"bold": True, "bottom": 2, "align": "right", "valign": "bottom", "bg_color": "#DDE5F0"}
        )
        self.money = workbook.add_format({"num_format": MONEY_FORMAT})
        self.money_bold = workbook.add_format({"num_format": MONEY_FORMAT, "bold": True})
        self.total_label = workbook.add_format({"bold": True, "top": 2})
        self.total_money = workbook.add_format({"bold": True, "top": 2, "num_format": MONEY_FORMAT})
        self.total_blank = workbook.add_format({"top": 2})
        self.date = workbook.add_format({"num_format": DATE_FORMAT, "align": "left"})
        # A little space between a right-aligned figure and the text beside it.
        self.text = workbook.add_format({"indent": 1})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.integer = workbook.add_format({"num_format": "0"})


def build_moj_return(data: MojReturnData, output: str | BinaryIO) -> BuildResult:
    """Write the return for `data` to `output` (a path or a binary file object).

    XlsxWriter keeps one scratch file per sheet until it closes the workbook; they live in a folder
    of their own that is removed whether the build succeeds or fails.
    """
    with tempfile.TemporaryDirectory(prefix="moj-return-") as scratch:
        workbook = xlsxwriter.Workbook(
            output,
            {
                "constant_memory": True,
                "tmpdir": scratch,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "default_date_format": DATE_FORMAT,
            },
        )
        return _build(workbook, data)


def _build(workbook: xlsxwriter.Workbook, data: MojReturnData) -> BuildResult:
    workbook.set_properties(
        {
            "title": f"MoJ return: {data.fund_name} ({data.fund_code})",
            "subject": "Allocations and reconciliation of a Ministry of Justice grant",
            "author": data.prepared_by,
            "company": data.recipient,
            "comments": f"Generated by the grant allocation ledger {data.product_version}",
            # XlsxWriter writes this as UTC ("...Z") whatever zone it is given.
            "created": data.prepared_at.astimezone(datetime.UTC).replace(tzinfo=None),
        }
    )
    formats = _Formats(workbook)
    allocations = workbook.add_worksheet("Allocations")
    summary = workbook.add_worksheet("Summary")
    reconciliation = workbook.add_worksheet("Reconciliation")
    about = workbook.add_worksheet("About")

    digest = hashlib.sha256(_json_line(data.digest_header()))
    groups: dict[tuple[str, str], _GroupTally] = {}
    line_count, total_cell = _write_allocations(allocations, data, formats, digest, groups)
    _check_against_reconciliation(groups, data.reconciliation)
    last_line_row = FIRST_LINE_ROW + max(line_count, 1) - 1
    _write_summary(summary, data, formats, last_line_row)
    _write_reconciliation(reconciliation, data, formats, total_cell)
    result = BuildResult(line_count=line_count, data_sha256=digest.hexdigest())
    _write_about(about, data, formats, result)
    workbook.close()
    return result


class _GroupTally:
    """The lines written in one (thematic area, funding category): how many and their total."""

    __slots__ = ("count", "tally")

    def __init__(self) -> None:
        self.count, self.tally = 0, money.Tally()


def _check_against_reconciliation(
    groups: dict[tuple[str, str], _GroupTally], rec: FundReconciliation
) -> None:
    """Refuse a return whose lines (summed from the entries) do not add up to the reconciliation it
    shows (which may come from the stored figures), in lines and pounds: in all, by funding
    category and by thematic area."""

    def written(name_of) -> dict[str, tuple[int, Money]]:
        counts: dict[str, int] = {}
        tallies: dict[str, money.Tally] = {}
        for key, group in groups.items():
            name = name_of(key)
            counts[name] = counts.get(name, 0) + group.count
            tallies.setdefault(name, money.Tally()).add(group.tally.total.amount)
        return {name: (counts[name], tallies[name].total) for name in counts}

    breakdowns = [
        ("", written(lambda key: ""), {"": (rec.line_count, rec.ledger_total)}),
        (
            "funding category",
            written(lambda key: key[1]),
            {row.name: (row.line_count, row.amount) for row in rec.by_category},
        ),
        (
            "thematic area",
            written(lambda key: key[0]),
            {row.name: (row.line_count, row.amount) for row in rec.by_thematic_area},
        ),
    ]
    nothing = (0, money.zero())
    for breakdown, lines, reconciled in breakdowns:
        for name in sorted({*lines, *reconciled}):
            (count, amount), (expected_count, expected) = (
                lines.get(name, nothing),
                reconciled.get(name, nothing),
            )
            if (count, amount) != (expected_count, expected):
                where = f" for the {breakdown} {name!r}" if breakdown else ""
                raise RuntimeError(
                    f"The lines written do not add up to the fund's reconciliation{where} ({count} "
                    f"lines of {money.format_gbp(amount)} written, {expected_count} lines of "
                    f"{money.format_gbp(expected)} reconciled). The fund may have changed while the "
                    "return was being written: export again. If it happens again, run "
                    "`manage.py check_figures`."
                )


def _write_allocations(
    sheet: Worksheet,
    data: MojReturnData,
    formats: _Formats,
    digest,
    groups: dict[tuple[str, str], _GroupTally],
) -> tuple[int, str]:
    rec = data.reconciliation
    for column, (_, width) in enumerate(TABLE_COLUMNS):
        sheet.set_column(column, column, width)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(HEADER_ROW)
    sheet.set_header(f'&L&"-,Bold"{_header_text(data.recipient)}&RMoJ return {data.fund_code}')
    prepared = f"{data.prepared_at.day} {data.prepared_at:%B %Y}"
    sheet.set_footer(f"&LPrepared {prepared} by {_header_text(data.prepared_by)}&RPage &P of &N")

    sheet.write_string(0, 0, data.fund_name, formats.title)
    title_block = [
        (("Funder", data.funder), ("Recipient", data.recipient)),
        (("Fund code", data.fund_code), ("Prepared by", data.prepared_by)),
        (("Spend period start", data.spend_start), ("Date prepared", data.prepared_at.date())),
        (("Spend period end", data.spend_end), ("Control total", rec.control_total.amount)),
    ]
    for row, pairs in enumerate(title_block, start=1):
        for (label, value), column in zip(pairs, (1, 4), strict=True):
            sheet.write_string(row, column, label, formats.label)
            _write_value(sheet, row, column + 1, value, formats)

    for column, (title, _) in enumerate(TABLE_COLUMNS):
        header_format = formats.header_number if column == AMOUNT_COLUMN else formats.header
        sheet.write_string(HEADER_ROW, column, title, header_format)
    sheet.set_row(HEADER_ROW, 30)

    row = FIRST_LINE_ROW
    # Looked up once rather than for each of up to 100,000 lines.
    write_number, write_string, add_to_digest, group_of = (
        sheet.write_number,
        sheet.write_string,
        digest.update,
        groups.get,
    )
    integer, text, money_format = formats.integer, formats.text, formats.money
    for line in data.lines:
        number, organisation, service, theme, category, amount = line
        write_number(row, 0, number, integer)
        write_string(row, 1, organisation, text)
        if service:
            write_string(row, 2, service)
        write_string(row, THEME_COLUMN, theme)
        write_number(row, AMOUNT_COLUMN, amount, money_format)
        group = group_of((theme, category))
        if group is None:
            group = groups[(theme, category)] = _GroupTally()
        group.count += 1
        group.tally.add(amount)
        write_string(row, CATEGORY_COLUMN, category, text)
        add_to_digest(_digest_line(line))
        row += 1
    line_count = row - FIRST_LINE_ROW
    if line_count == 0:
        sheet.write_string(row, 1, "No allocations recorded")
        row += 1

    first_cell = xl_rowcol_to_cell(FIRST_LINE_ROW, AMOUNT_COLUMN)
    last_cell = xl_rowcol_to_cell(row - 1, AMOUNT_COLUMN)
    sheet.write_blank(row, 0, None, formats.total_blank)
    sheet.write_string(row, 1, "Total", formats.total_label)
    sheet.write_blank(row, 2, None, formats.total_blank)
    sheet.write_blank(row, 3, None, formats.total_blank)
    sheet.write_formula(
        row, AMOUNT_COLUMN, f"=SUM({first_cell}:{last_cell})", formats.total_money, rec.ledger_total.amount
    )
    sheet.write_blank(row, CATEGORY_COLUMN, None, formats.total_blank)

    sheet.freeze_panes(FIRST_LINE_ROW, 0)
    sheet.autofilter(HEADER_ROW, 0, row - 1, len(TABLE_COLUMNS) - 1)
    total_cell = "Allocations!" + xl_rowcol_to_cell(row, AMOUNT_COLUMN, row_abs=True, col_abs=True)
    return line_count, total_cell


def _header_text(text: str) -> str:
    # "&" starts a control code in Excel page headers.
    return text.replace("&", "&&")


def _write_value(sheet: Worksheet, row: int, column: int, value, formats: _Formats) -> None:
    if isinstance(value, Decimal):
        sheet.write_number(row, column, value, formats.money_bold)
    elif isinstance(value, datetime.date):
        sheet.write_datetime(row, column, value, formats.date)
    else:
        sheet.write_string(row, column, str(value))


def _allocations_range(column: int, last_line_row: int) -> str:
    first = xl_rowcol_to_cell(FIRST_LINE_ROW, column, row_abs=True, col_abs=True)
    last = xl_rowcol_to_cell(last_line_row, column, row_abs=True, col_abs=True)
    return f"Allocations!{first}:{last}"


def _write_subtotal_table(
    sheet: Worksheet,
    start_row: int,
    title: str,
    rows: list[Subtotal],
    criteria_column: int,
    last_line_row: int,
    formats: _Formats,
    with_budgets: bool,
) -> tuple[int, str]:
    """A table of SUMIFS subtotals over the Allocations sheet; returns the next free row and total cell."""
    amounts = _allocations_range(AMOUNT_COLUMN, last_line_row)
    criteria = _allocations_range(criteria_column, last_line_row)
    headers = [title, "Lines", "Allocated (£)"] + (["Budget (£)", "Variance (£)"] if with_budgets else [])
    for column, header in enumerate(headers):
        sheet.write_string(
            start_row, column, header, formats.header if column == 0 else formats.header_number
        )
    row = start_row + 1
    for subtotal in rows:
        name_cell = xl_rowcol_to_cell(row, 0)
        criterion = sumifs_criterion(name_cell)
        sheet.write_string(row, 0, subtotal.name)
        sheet.write_formula(
            row, 1, f"=COUNTIFS({criteria},{criterion})", formats.integer, subtotal.line_count
        )
        sheet.write_formula(
            row, 2, f"=SUMIFS({amounts},{criteria},{criterion})", formats.money, subtotal.amount.amount
        )
        if with_budgets and subtotal.budget is not None:
            sheet.write_number(row, 3, subtotal.budget.amount, formats.money)
            # Rounded to the penny: the amounts are binary floats in the spreadsheet.
            variance = f"=ROUND({xl_rowcol_to_cell(row, 2)}-{xl_rowcol_to_cell(row, 3)},2)"
            sheet.write_formula(row, 4, variance, formats.money, subtotal.variance.amount)
        row += 1
    if not rows:
        sheet.write_string(row, 0, "No allocations recorded")
        row += 1

    def column_sum(column: int) -> str:
        return f"=SUM({xl_rowcol_to_cell(start_row + 1, column)}:{xl_rowcol_to_cell(row - 1, column)})"

    line_total = sum(subtotal.line_count for subtotal in rows)
    amount_total = money.total(subtotal.amount for subtotal in rows).amount
    sheet.write_string(row, 0, "Total", formats.total_label)
    sheet.write_formula(row, 1, column_sum(1), formats.total_label, line_total)
    sheet.write_formula(row, 2, column_sum(2), formats.total_money, amount_total)
    if with_budgets:
        budgeted = [subtotal for subtotal in rows if subtotal.budget is not None]
        budget_total = money.total(subtotal.budget for subtotal in budgeted).amount
        variance_total = money.total(subtotal.variance for subtotal in budgeted).amount
        sheet.write_formula(row, 3, column_sum(3), formats.total_money, budget_total)
        sheet.write_formula(row, 4, f"=ROUND({column_sum(4)[1:]},2)", formats.total_money, variance_total)
    return row + 2, xl_rowcol_to_cell(row, 2, row_abs=True, col_abs=True)


def _write_summary(sheet: Worksheet, data: MojReturnData, formats: _Formats, last_line_row: int) -> None:
    rec = data.reconciliation
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 8)
    sheet.set_column(2, 4, 16)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.write_string(0, 0, f"Summary: {data.fund_name}", formats.title)
    sheet.write_string(1, 0, "Subtotals are live formulas over the Allocations sheet.")
    with_budgets = any(row.budget is not None for row in rec.by_category)
    next_row, _ = _write_subtotal_table(
        sheet, 3, "Funding category", rec.by_category, CATEGORY_COLUMN, last_line_row, formats, with_budgets
    )
    _write_subtotal_table(
        sheet, next_row, "Thematic area", rec.by_thematic_area, THEME_COLUMN, last_line_row, formats, False
    )


def _write_reconciliation(sheet: Worksheet, data: MojReturnData, formats: _Formats, total_cell: str) -> None:
    rec = data.reconciliation
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 18)
    sheet.write_string(0, 0, f"Reconciliation: {data.fund_name}", formats.title)
    sheet.write_string(2, 0, "Control total (award paperwork)", formats.label)
    sheet.write_number(2, 1, rec.control_total.amount, formats.money)
    sheet.write_string(3, 0, "Ledger total (Allocations sheet)", formats.label)
    sheet.write_formula(3, 1, f"={total_cell}", formats.money, rec.ledger_total.amount)
    sheet.write_string(4, 0, "Variance (ledger minus control)", formats.label)
    # Rounded to the penny: the amounts are binary floats in the spreadsheet, and a reconciled fund
    # must show exactly zero.
    sheet.write_formula(4, 1, "=ROUND(B4-B3,2)", formats.money_bold, rec.variance.amount)
    sheet.write_string(5, 0, "Status", formats.label)
    sheet.write_formula(5, 1, describe_variance_formula("B5"), formats.label, rec.variance_in_words)
    sheet.write_string(6, 0, "Status code", formats.label)
    status_formula = '=IF(B5=0,"reconciled",IF(B5>0,"over-allocated","under-allocated"))'
    sheet.write_formula(6, 1, status_formula, None, str(rec.status))


def _write_about(sheet: Worksheet, data: MojReturnData, formats: _Formats, result: BuildResult) -> None:
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 90)
    sheet.write_string(0, 0, "About this workbook", formats.title)
    rows = [
        ("Generated at", data.prepared_at.isoformat(timespec="seconds")),
        ("Generated by", data.prepared_by),
        ("Product", f"Grant allocation ledger {data.product_version}"),
        ("Fund code", data.fund_code),
        ("Lines", result.line_count),
        ("Data SHA-256", result.data_sha256),
        ("How the SHA-256 is made", DIGEST_EXPLANATION),
        ("Recalculation", "Formulas carry their computed results and Excel recalculates them on opening."),
    ]
    for row, (label, value) in enumerate(rows, start=2):
        sheet.write_string(row, 0, label, formats.label)
        if isinstance(value, int):
            sheet.write_number(row, 1, value, formats.integer)
        else:
            sheet.write_string(row, 1, value, formats.wrap)
