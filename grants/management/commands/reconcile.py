"""`manage.py reconcile FUND_CODE [--format text|json]`: does the fund's ledger agree with its control total?

Exit status: 0 reconciled, 1 a variance, 2 bad input (an unknown fund code lists the known ones).
"""

import json
import sys

from django.core.management.base import BaseCommand

from grants import money
from grants.management.fund_argument import fund_from_code
from grants.reconciliation import FundReconciliation, Subtotal, reconcile

EXIT_RECONCILED, EXIT_VARIANCE = 0, 1


class Command(BaseCommand):
    help = "Reconcile a fund's allocations against its control total."

    def add_arguments(self, parser):
        parser.add_argument("fund_code", help="The fund's code, e.g. moj-ecf-2020.")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, fund_code, format, **options):
        fund = fund_from_code(fund_code)
        result = reconcile(fund)
        if format == "json":
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
        else:
            self.stdout.write(render_text(result))
        if not result.is_reconciled:
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


def render_text(result: FundReconciliation) -> str:
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
    return "\n".join(lines)
