"""The MoJ return's sheets, each written by one function: the allocations, the subtotal tables, the
summary with its reconciliation, and the About sheet."""

from __future__ import annotations

import datetime
from decimal import Decimal

from djmoney.money import Money
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from grants import money
from grants.exports.moj_return_control import write_control_rows
from grants.exports.moj_return_format import (
    DIGEST_EXPLANATION,
    DIGEST_EXPLANATION_BY_YEAR,
    FIRST_LINE_ROW,
    HEADER_ROW,
    THEME_COLUMN,
    BuildResult,
    Formats,
    GroupTally,
    MojReturnData,
    allocation_columns,
    describe_variance_formula,
    digest_line,
    sumifs_criterion,
)
from grants.exports.moj_return_print import LINE_HEIGHT, set_up_page, wrapped_height, write_title
from grants.reconciliation import Subtotal

# The column of the title block's second labels ("Recipient", "Control total").
TITLE_LABEL_COLUMN = 4

# The Reconciliation sheet's columns C and D, which its status sentence spans with column B.
STATUS_SPAN_WIDTH = 26

ABOUT_VALUE_WIDTH = 90


def write_allocations(
    sheet: Worksheet,
    data: MojReturnData,
    formats: Formats,
    digest,
    groups: dict[tuple[str, str], GroupTally],
) -> tuple[int, str, list[tuple[str, Money]]]:
    """The lines; returns their number, the absolute reference of their total, and each year's
    total with its reference (for a fund with a profile)."""
    rec = data.reconciliation
    layout = allocation_columns(data)
    widths = [width for _, width in layout.headers]
    # The title block's second column of labels ("Control total 2023-24") must not be cut by its value.
    widths[TITLE_LABEL_COLUMN] = max(widths[TITLE_LABEL_COLUMN], 22)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    set_up_page(sheet, data, "Allocations")
    sheet.repeat_rows(HEADER_ROW)
    year = "" if data.year is None else f" {data.year.label}"

    write_title(sheet, data.title, len(widths) - 1, sum(widths), formats.title)
    title_block = [
        (("Funder", data.funder), ("Recipient", data.recipient)),
        (("Fund code", data.fund_code), ("Prepared by", data.prepared_by)),
        (("Spend period start", data.spend_start), ("Date prepared", data.prepared_at.date())),
        (("Spend period end", data.spend_end), (f"Control total{year}", rec.control_total.amount)),
    ]
    # Each value spans the columns up to the next label (or the sheet's edge) and wraps there, so a
    # long name prints whole instead of running off the page.
    spans = [(2, TITLE_LABEL_COLUMN - 1), (TITLE_LABEL_COLUMN + 1, len(widths) - 1)]
    for row, pairs in enumerate(title_block, start=1):
        sheet.set_row(
            row,
            max(
                wrapped_height(str(value), sum(widths[first : last + 1]))
                for (_, value), (first, last) in zip(pairs, spans, strict=True)
            ),
        )
        for (label, value), column, (first, last) in zip(pairs, (1, TITLE_LABEL_COLUMN), spans, strict=True):
            sheet.write_string(row, column, label, formats.label_top)
            _write_value(sheet, row, first, last, value, formats)

    figures = {layout.amount, *layout.years}
    for column, (title, _) in enumerate(layout.headers):
        header_format = formats.header_number if column in figures else formats.header
        sheet.write_string(HEADER_ROW, column, title, header_format)
    sheet.set_row(HEADER_ROW, 2 * LINE_HEIGHT)

    row = FIRST_LINE_ROW
    # Looked up once rather than for each of up to 100,000 lines.
    write_number, write_string, add_to_digest, group_of = (
        sheet.write_number,
        sheet.write_string,
        digest.update,
        groups.get,
    )
    integer, text, text_plain, money_format = formats.integer, formats.text, formats.text_plain, formats.money
    amount_column, category_column, year_columns = layout.amount, layout.category, layout.years
    year_tallies = [money.Tally() for _ in year_columns]
    if year_columns:
        first_year, last_year = year_columns[0], year_columns[-1]
    # The characters a line's text columns hold on one line (the indented ones one fewer); a line
    # with a longer text gets a row tall enough for it, as neither Excel nor LibreOffice reliably
    # does that for a whole row when it opens the file. Plain comparisons: this runs once a line.
    text_columns = (1, 2, THEME_COLUMN, category_column)
    fit_organisation, fit_service, fit_theme, fit_category = (
        widths[column] - (2 if column in (1, category_column) else 1) for column in text_columns
    )
    for line in data.lines:
        number, organisation, service, theme, category, amount, by_year = line
        if (
            len(organisation) > fit_organisation
            or len(service) > fit_service
            or len(theme) > fit_theme
            or len(category) > fit_category
        ):
            texts = (organisation, service, theme, category)
            heights = (
                wrapped_height(text, widths[column] - 1)
                for text, column in zip(texts, text_columns, strict=True)
            )
            sheet.set_row(row, max(heights))
        write_number(row, 0, number, integer)
        write_string(row, 1, organisation, text)
        if service:
            write_string(row, 2, service, text_plain)
        write_string(row, THEME_COLUMN, theme, text_plain)
        if year_columns:
            for column, tally, part in zip(year_columns, year_tallies, by_year, strict=True):
                if part is not None:
                    write_number(row, column, part, money_format)
                    tally.add(part)
            years_sum = f"=SUM({xl_rowcol_to_cell(row, first_year)}:{xl_rowcol_to_cell(row, last_year)})"
            sheet.write_formula(row, amount_column, years_sum, money_format, amount)
        else:
            write_number(row, amount_column, amount, money_format)
        group = group_of((theme, category))
        if group is None:
            group = groups[(theme, category)] = GroupTally()
        group.count += 1
        group.tally.add(amount)
        write_string(row, category_column, category, text)
        add_to_digest(digest_line(line))
        row += 1
    line_count = row - FIRST_LINE_ROW
    if line_count == 0:
        sheet.write_string(row, 1, "No allocations recorded")
        row += 1

    def column_total(column: int) -> str:
        first_cell = xl_rowcol_to_cell(FIRST_LINE_ROW, column)
        last_cell = xl_rowcol_to_cell(row - 1, column)
        return f"=SUM({first_cell}:{last_cell})"

    def absolute(column: int) -> str:
        return "Allocations!" + xl_rowcol_to_cell(row, column, row_abs=True, col_abs=True)

    sheet.write_blank(row, 0, None, formats.total_blank)
    sheet.write_string(row, 1, "Total", formats.total_label)
    sheet.write_blank(row, 2, None, formats.total_blank)
    sheet.write_blank(row, 3, None, formats.total_blank)
    for column, tally in zip(year_columns, year_tallies, strict=True):
        sheet.write_formula(row, column, column_total(column), formats.total_money, tally.total.amount)
    sheet.write_formula(
        row, amount_column, column_total(amount_column), formats.total_money, rec.ledger_total.amount
    )
    sheet.write_blank(row, category_column, None, formats.total_blank)
    write_control_rows(sheet, data, formats, layout, row, [tally.total for tally in year_tallies])

    sheet.freeze_panes(FIRST_LINE_ROW, 0)
    sheet.autofilter(HEADER_ROW, 0, row - 1, len(layout.headers) - 1)
    year_totals = [
        (absolute(column), tally.total) for column, tally in zip(year_columns, year_tallies, strict=True)
    ]
    return line_count, absolute(amount_column), year_totals


def _write_value(sheet: Worksheet, row: int, first: int, last: int, value, formats: Formats) -> None:
    """A title block value in the cells `first` to `last` of `row` (merged when more than one)."""
    if isinstance(value, Decimal):
        cell_format, write = formats.money_bold_top, sheet.write_number
    elif isinstance(value, datetime.date):
        cell_format, write = formats.date, sheet.write_datetime
    else:
        cell_format, write, value = formats.wrap, sheet.write_string, str(value)
    if last > first:
        sheet.merge_range(row, first, row, last, "", cell_format)
    write(row, first, value, cell_format)


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
    amount_column: int,
    last_line_row: int,
    formats: Formats,
    with_budgets: bool,
) -> tuple[int, str]:
    """A table of SUMIFS subtotals over the Allocations sheet; returns the next free row and total cell."""
    amounts = _allocations_range(amount_column, last_line_row)
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


def write_summary(sheet: Worksheet, data: MojReturnData, formats: Formats, last_line_row: int) -> None:
    rec = data.reconciliation
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 8)
    sheet.set_column(2, 4, 16)
    set_up_page(sheet, data, "Summary")
    write_title(sheet, f"Summary: {data.title}", 4, 34 + 8 + 3 * 16, formats.title)
    sheet.write_string(1, 0, "Subtotals are live formulas over the Allocations sheet.")
    with_budgets = any(row.budget is not None for row in rec.by_category)
    layout = allocation_columns(data)
    next_row, _ = _write_subtotal_table(
        sheet,
        3,
        "Funding category",
        rec.by_category,
        layout.category,
        layout.amount,
        last_line_row,
        formats,
        with_budgets,
    )
    _write_subtotal_table(
        sheet,
        next_row,
        "Thematic area",
        rec.by_thematic_area,
        THEME_COLUMN,
        layout.amount,
        last_line_row,
        formats,
        False,
    )


def write_reconciliation(sheet: Worksheet, data: MojReturnData, formats: Formats, total_cell: str) -> None:
    rec = data.reconciliation
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 18)
    sheet.set_column(2, 3, STATUS_SPAN_WIDTH)
    set_up_page(sheet, data, "Reconciliation")
    write_title(sheet, f"Reconciliation: {data.title}", 3, 34 + 18 + 2 * STATUS_SPAN_WIDTH, formats.title)
    sheet.write_string(2, 0, "Control total (award paperwork)", formats.label)
    sheet.write_number(2, 1, rec.control_total.amount, formats.money)
    sheet.write_string(3, 0, "Ledger total (Allocations sheet)", formats.label)
    sheet.write_formula(3, 1, f"={total_cell}", formats.money, rec.ledger_total.amount)
    sheet.write_string(4, 0, "Variance (ledger minus control)", formats.label)
    # Rounded to the penny: the amounts are binary floats in the spreadsheet, and a reconciled fund
    # must show exactly zero.
    sheet.write_formula(4, 1, "=ROUND(B4-B3,2)", formats.money_bold, rec.variance.amount)
    sheet.write_string(5, 0, "Status", formats.label_top)
    # Across columns B to D, wrapped, so the sentence prints whole on the page.
    sheet.set_row(5, wrapped_height(rec.variance_in_words, 18 + 2 * STATUS_SPAN_WIDTH))
    sheet.merge_range(5, 1, 5, 3, "", formats.wrap_bold)
    sheet.write_formula(5, 1, describe_variance_formula("B5"), formats.wrap_bold, rec.variance_in_words)
    sheet.write_string(6, 0, "Status code", formats.label)
    status_formula = '=IF(B5=0,"reconciled",IF(B5>0,"over-allocated","under-allocated"))'
    sheet.write_formula(6, 1, status_formula, None, str(rec.status))


def write_about(sheet: Worksheet, data: MojReturnData, formats: Formats, result: BuildResult) -> None:
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, ABOUT_VALUE_WIDTH)
    set_up_page(sheet, data, "About")
    write_title(sheet, "About this workbook", 1, 24 + ABOUT_VALUE_WIDTH, formats.title)
    rows = [
        ("Generated at", data.prepared_at.isoformat(timespec="seconds")),
        ("Generated by", data.prepared_by),
        ("Product", f"Grant allocation ledger {data.product_version}"),
        ("Fund code", data.fund_code),
        ("Lines", result.line_count),
        ("Data SHA-256", result.data_sha256),
        ("How the SHA-256 is made", DIGEST_EXPLANATION + (DIGEST_EXPLANATION_BY_YEAR if data.years else "")),
        ("Recalculation", "Formulas carry their computed results and Excel recalculates them on opening."),
    ]
    # Only a submission with a variance says so, so every other return's bytes stay as they were.
    if data.submitted_variance is not None and data.submitted_variance.amount != 0:
        rows.append(
            (
                "Submitted with a variance",
                (
                    f"Submitted {money.format_variance(data.submitted_variance)}: the approver who "
                    "submitted it confirmed the variance, to the penny."
                ),
            )
        )
    for row, (label, value) in enumerate(rows, start=2):
        # A row as tall as its wrapped value, so a long explanation does not run over the next row.
        if isinstance(value, str) and len(value) > ABOUT_VALUE_WIDTH - 2:
            sheet.set_row(row, wrapped_height(value, ABOUT_VALUE_WIDTH))
        sheet.write_string(row, 0, label, formats.label_top)
        if isinstance(value, int):
            sheet.write_number(row, 1, value, formats.integer)
        else:
            sheet.write_string(row, 1, value, formats.wrap)
