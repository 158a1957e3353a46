"""The statutory grants register: every crime and disorder reduction grant of a fund, with what the
Elected Local Policing Bodies (Specified Information) Order 2011 (Schedule 1 paragraph 3(f)) asks a
police and crime commissioner to publish: the recipient, the amount, the date, the purpose, any
conditions and why the grant was expected to reduce crime and disorder.

Only approved money is published: a line with no approved award is not a grant yet, and an amount
awaiting approval is never added. For one financial year, the amount is what was approved for that
year (the stored year figures); a line with nothing approved in the year is left out.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Min, Q

from grants import money
from grants.figures import LineYearFigures
from grants.models import Allocation, Fund, LedgerEntry, has_approved_award
from grants.years import FinancialYear


@dataclass(frozen=True)
class RegisterRow:
    line_number: int
    recipient: str
    amount: Decimal
    award_date: datetime.date | None
    purpose: str
    conditions: str
    crime_reduction: str


# The Order's fields as the downloads head them, in order.
REGISTER_COLUMNS = [
    ("Line", "line_number"),
    ("Recipient", "recipient"),
    ("Amount (approved, £)", "amount"),
    ("Date awarded", "award_date"),
    ("Purpose", "purpose"),
    ("Conditions", "conditions"),
    ("Why it is expected to reduce crime and disorder", "crime_reduction"),
]


def grants_register(fund: Fund, year: FinancialYear | None = None) -> list[RegisterRow]:
    """The fund's register rows in line order, in two queries whatever the number of lines."""
    approved_award = Q(
        entries__kind=LedgerEntry.Kind.AWARD,
        entries__approved_at__isnull=False,
        entries__rejected_at__isnull=True,
    )
    lines = (
        Allocation.objects.for_fund(fund)
        .filter(has_approved_award())
        .with_awarded()
        .annotate(award_date=Min("entries__effective_date", filter=approved_award))
        .select_related("organisation", "register_text")
        .order_by("line_number")
    )
    by_year = None
    if year is not None:
        by_year = dict(
            LineYearFigures.objects.filter(
                fund=fund, year=year.start_year, awarded_entries__gt=0
            ).values_list("allocation_id", "awarded")
        )
    rows = []
    for line in lines:
        amount = line.awarded if by_year is None else by_year.get(line.pk)
        if amount is None:
            continue
        own = getattr(line, "register_text", None)
        rows.append(
            RegisterRow(
                line_number=line.line_number,
                recipient=line.organisation.name,
                amount=money.from_aggregate(amount).amount,
                award_date=line.award_date,
                purpose=(own and own.purpose) or fund.register_purpose,
                conditions=(own and own.conditions) or fund.register_conditions,
                crime_reduction=(own and own.crime_reduction) or fund.register_crime_reduction,
            )
        )
    return rows


def register_gaps(rows: list[RegisterRow]) -> list[str]:
    """What the register still lacks, in a finance officer's words: empty when it is complete."""
    gaps = []
    for label, field in REGISTER_COLUMNS[4:]:
        missing = [str(row.line_number) for row in rows if not getattr(row, field).strip()]
        if missing:
            gaps.append(f"{label}: not given for line{'s' if len(missing) > 1 else ''} {', '.join(missing)}.")
    return gaps
