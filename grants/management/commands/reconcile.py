"""`manage.py reconcile FUND_CODE [--year 2023-24] [--format text|json]`: does the fund's ledger agree
with its control total, in total and in each financial year?

Exit status: 0 reconciled, 1 a variance (in total, or in any year with a control total of its own;
with --year: a variance, or no control total for the year),
2 bad input (an unknown fund code lists the known ones; a year that is not one, or not the fund's,
is refused in words).
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from grants import money
from grants.management.fund_argument import EXIT_BAD_INPUT, fund_from_code
from grants.reconciliation import FundReconciliation, Subtotal, reconcile
from grants.reconciliation.cash import cash_total
from grants.reconciliation.years import (
    NotAYearOfTheFund,
    YearReconciliation,
    reconcile_by_year,
    year_reconciliation,
)
from grants.years import parse_year

EXIT_RECONCILED, EXIT_VARIANCE = 0, 1


class Command(BaseCommand):
    help = "Reconcile a fund's allocations against its control total, in total and by financial year."

    def add_arguments(self, parser):
        parser.add_argument("fund_code", help="The fund's code, e.g. moj-ecf-2020.")
        parser.add_argument(
            "--year",
            help="One financial year only, as offices write it: 2023-24 (1 April 2023 to 31 March 2024).",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, fund_code, year, format, **options):
        fund = fund_from_code(fund_code)
        chosen = None
        if year is not None:
            try:
                chosen = parse_year(year)
            except ValueError as error:
                raise CommandError(str(error), returncode=EXIT_BAD_INPUT) from error
        by_year = reconcile_by_year(fund)
        if chosen is not None:
            try:
                result = year_reconciliation(by_year, chosen, fund)
            except NotAYearOfTheFund as error:
                raise CommandError(str(error), returncode=EXIT_BAD_INPUT) from error
            data = {"fund": fund.code, **result.as_dict()}
            text = render_year_text(fund, result)
        else:
            result = reconcile(fund)
            data = {
                **result.as_dict(),
                "by_year": [year.as_dict() for year in by_year],
                "cash": cash_total(fund, by_year).as_dict(),
            }
            text = render_text(result, by_year)
        self.stdout.write(json.dumps(data, indent=2) if format == "json" else text)
        # A fund with a profile reconciles only when each year with a control total does too.
        years_out = chosen is None and any(
            year.control_total is not None and year.variance is not None and year.variance.amount != 0
            for year in by_year
        )
        if not result.is_reconciled or years_out:
            sys.exit(EXIT_VARIANCE)


def _table(title: str, rows: list[Subtotal]) -> list[str]:
    with_budget = any(row.budget is not None for row in rows)
    width = max([len(title)] + [len(row.name) for row in rows])
    header = f"{title:<{width}}  {'Lines':>5}  {'Allocated':>16}"
    if with_budget:
        header += f"  {'Budget':>16}  {'Variance':>16}"
    lines = [header, "-" * len(header)]
    for row in rows:
        line = f"{row.name:<{width}}  {row.line_count:>5}  {money.format_gbp(row.amount):>16}"
        if with_budget:
            line += f"  {money.format_gbp(row.budget) or '-':>16}"
            line += f"  {money.format_gbp(row.variance) or '-':>16}"
        lines.append(line)
    return lines


def _dates(year) -> str:
    return f"{year.start.day} {year.start:%B %Y} to {year.end.day} {year.end:%B %Y}"


def _years_table(by_year: list[YearReconciliation]) -> list[str]:
    header = (
        f"{'Year':<8}  {'Lines':>5}  {'Control total':>16}  {'Allocated':>16}  {'Variance':>16}  "
        f"{'Paid':>16}  Status"
    )
    lines = [header, "-" * len(header)]
    for row in by_year:
        lines.append(
            f"{row.year.label:<8}  {row.line_count:>5}  {money.format_gbp(row.control_total) or '-':>16}  "
            f"{money.format_gbp(row.allocated):>16}  {money.format_gbp(row.variance) or '-':>16}  "
            f"{money.format_gbp(row.paid):>16}  {row.status}"
        )
    return lines


def render_text(result: FundReconciliation, by_year: list[YearReconciliation] | None = None) -> str:
    lines = [
        f"Fund:           {result.fund_name} ({result.fund_code})",
        f"Control total:  {money.format_gbp(result.control_total)}",
        f"Ledger total:   {money.format_gbp(result.ledger_total)} ({result.line_count} lines)",
        f"Variance:       {money.format_gbp(result.variance)} (ledger minus control)",
        f"Status:         {result.status}",
        result.variance_in_words,
        "",
        *_table("Funding category", result.by_category),
        "",
        *_table("Thematic area", result.by_thematic_area),
        "",
        *_table("Organisation", result.by_organisation),
    ]
    if by_year:
        lines += ["", "By financial year", "", *_years_table(by_year)]
    return "\n".join(lines)


def render_year_text(fund, result: YearReconciliation) -> str:
    lines = [
        f"Fund:           {fund.name} ({fund.code})",
        f"Year:           {result.year.label} ({_dates(result.year)})",
        f"Control total:  {money.format_gbp(result.control_total) or 'none for this year'}",
        f"Allocated:      {money.format_gbp(result.allocated)} ({result.line_count} lines)",
        f"Variance:       {money.format_gbp(result.variance) or '-'} (allocated minus control)",
        f"Status:         {result.status}",
        result.variance_in_words,
        f"Paid:           {money.format_gbp(result.paid)}",
        f"Underspend returned by providers: {money.format_gbp(result.underspend_returned)}",
        f"Returned to the funder:           {money.format_gbp(result.returned_to_funder)}",
        "",
        *_table("Funding category", result.by_category),
        "",
        *_table("Thematic area", result.by_thematic_area),
    ]
    return "\n".join(lines)
