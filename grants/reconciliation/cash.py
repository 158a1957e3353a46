"""Cash the office holds of a fund: what the funder paid it, less what it paid providers, plus the
underspend they returned, less what it returned to the funder; and the underspend providers still owe.

Outstanding underspend due is defined here, once: on a line it is
`max(0, approved underspend due - approved underspend returned)`. A provider may return underspend
no one declared as due (that clears nothing and owes nothing), and a return larger than what was
declared leaves nothing outstanding, never a negative sum. A fund's outstanding underspend due is
the sum of its lines'. Entries awaiting approval are never in it; they are shown beside it
(`underspend_due_pending`), as receipts awaiting approval are beside what was received.

`outstanding_underspend_due()` is the rule on one line's amounts (the years, which carry each line's
running amounts from year to year); `outstanding_underspend_due_sql()` is the same rule as a
database expression (the fund's page, which sums it over the lines in one query). The tests hold
the two to the same figures.

`fund_cash(fund)` answers in one query whatever the number of lines, for the fund's page;
`line_underspend_due(allocation)` in one query for a line's page;
`cash_total(fund, by_year)` adds up the years of `reconcile_by_year()` with no query at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from djmoney.money import Money

from grants import money
from grants.models import Approval, Fund, LedgerEntry, approval_condition

Kind = LedgerEntry.Kind


def outstanding_underspend_due(due: Money, returned: Money) -> Money:
    """One line's outstanding underspend due: what was declared due less what came back, never
    below £0.00."""
    return max(money.difference(due, returned), money.zero())


def outstanding_underspend_due_sql(due: str, returned: str):
    """`outstanding_underspend_due()` over two aggregates (by annotation name) of a line."""
    decimal = DecimalField(max_digits=14, decimal_places=2)
    return Greatest(
        Coalesce(F(due), Value(0), output_field=decimal)
        - Coalesce(F(returned), Value(0), output_field=decimal),
        Value(0),
        output_field=decimal,
    )


@dataclass(frozen=True)
class CashPosition:
    """A fund's cash in total (approved entries), with receipts and underspend due awaiting approval
    beside it. `awarded` is the funder's control total; `allocated` the approved awards and
    variations (None where the caller has no need of them)."""

    received: Money
    paid: Money
    underspend_returned: Money
    returned_to_funder: Money
    underspend_due: Money  # outstanding (see the module's docstring)
    received_pending: Money = field(default_factory=money.zero)
    underspend_due_pending: Money = field(default_factory=money.zero)
    # Payments and returned underspend awaiting approval, beside the approved (None where not read).
    paid_pending: Money | None = None
    underspend_returned_pending: Money | None = None
    awarded: Money | None = None
    allocated: Money | None = None

    @property
    def cash_held(self) -> Money:
        """Received, less paid to providers, plus underspend they returned, less returned to the funder."""
        return cash_held(self.received, self.paid, self.underspend_returned, self.returned_to_funder)

    @property
    def not_yet_received(self) -> Money | None:
        """What the funder awarded and has not yet paid the office (negative if it paid more)."""
        return None if self.awarded is None else money.difference(self.awarded, self.received)

    def as_dict(self) -> dict:
        def optional(amount: Money | None) -> str | None:
            return None if amount is None else money.as_string(amount)

        return {
            "control_total": optional(self.awarded),
            "received": money.as_string(self.received),
            "allocated": optional(self.allocated),
            "paid": money.as_string(self.paid),
            "underspend_returned": money.as_string(self.underspend_returned),
            "returned_to_funder": money.as_string(self.returned_to_funder),
            "cash_held": money.as_string(self.cash_held),
            "underspend_due": money.as_string(self.underspend_due),
            "received_pending": money.as_string(self.received_pending),
            "underspend_due_pending": money.as_string(self.underspend_due_pending),
        }


def cash_held(received: Money, paid: Money, underspend_returned: Money, returned_to_funder: Money) -> Money:
    return money.total([received, -paid, underspend_returned, -returned_to_funder])


CASH_KINDS = [
    Kind.RECEIVED_FROM_FUNDER,
    Kind.PAYMENT,
    Kind.UNDERSPEND_RETURNED,
    Kind.RETURNED_TO_FUNDER,
    Kind.UNDERSPEND_DUE,
]


def fund_cash(fund: Fund) -> CashPosition:
    """The fund's cash in total, in one query whatever its number of lines: its entries of the kinds
    that move cash (or declare it due) summed per line, and those sums summed, the outstanding
    underspend due per line taken before it is added up. `awarded` is the fund's control total;
    `allocated` is left to the page, which has it from the stored figures."""
    approved, pending = approval_condition("", Approval.APPROVED), approval_condition("", Approval.PENDING)

    def summed(kind: str, condition: Q = approved) -> Sum:
        return Sum("amount", filter=Q(kind=kind) & condition)

    per_line = (
        LedgerEntry.objects.filter(fund=fund, kind__in=CASH_KINDS)
        .order_by()
        .values("allocation")
        .annotate(
            line_received=summed(Kind.RECEIVED_FROM_FUNDER),
            line_received_pending=summed(Kind.RECEIVED_FROM_FUNDER, pending),
            line_paid=summed(Kind.PAYMENT),
            line_paid_pending=summed(Kind.PAYMENT, pending),
            line_returned=summed(Kind.UNDERSPEND_RETURNED),
            line_returned_pending=summed(Kind.UNDERSPEND_RETURNED, pending),
            line_to_funder=summed(Kind.RETURNED_TO_FUNDER),
            line_due=summed(Kind.UNDERSPEND_DUE),
            line_due_pending=summed(Kind.UNDERSPEND_DUE, pending),
        )
        .annotate(line_outstanding=outstanding_underspend_due_sql("line_due", "line_returned"))
    )
    totals = per_line.aggregate(
        received=Sum("line_received"),
        received_pending=Sum("line_received_pending"),
        paid=Sum("line_paid"),
        paid_pending=Sum("line_paid_pending"),
        underspend_returned=Sum("line_returned"),
        underspend_returned_pending=Sum("line_returned_pending"),
        returned_to_funder=Sum("line_to_funder"),
        underspend_due=Sum("line_outstanding"),
        underspend_due_pending=Sum("line_due_pending"),
    )
    return CashPosition(
        **{name: money.from_aggregate(value) for name, value in totals.items()},
        awarded=money.from_aggregate(fund.control_total.amount),
    )


@dataclass(frozen=True)
class LineUnderspendDue:
    """A line's outstanding underspend due, and underspend due awaiting approval (not in it)."""

    outstanding: Money
    pending: Money


def line_underspend_due(allocation) -> LineUnderspendDue:
    """The line's outstanding underspend due (the rule above, on its approved sums), in one query."""
    approved, pending = approval_condition("", Approval.APPROVED), approval_condition("", Approval.PENDING)
    sums = LedgerEntry.objects.filter(
        allocation=allocation, kind__in=[Kind.UNDERSPEND_DUE, Kind.UNDERSPEND_RETURNED]
    ).aggregate(
        due=Sum("amount", filter=Q(kind=Kind.UNDERSPEND_DUE) & approved),
        returned=Sum("amount", filter=Q(kind=Kind.UNDERSPEND_RETURNED) & approved),
        pending=Sum("amount", filter=Q(kind=Kind.UNDERSPEND_DUE) & pending),
    )
    return LineUnderspendDue(
        outstanding=outstanding_underspend_due(
            money.from_aggregate(sums["due"]), money.from_aggregate(sums["returned"])
        ),
        pending=money.from_aggregate(sums["pending"]),
    )


def cash_total(fund: Fund, by_year: list) -> CashPosition:
    """The fund's cash in total from its years (`reconcile_by_year()`), with no query: the years'
    movements added up, and the outstanding underspend due at the end of the last year (each year's
    is as at its end, so the last one's is the fund's)."""

    def added(name: str) -> Money:
        return money.total(getattr(year, name) for year in by_year)

    return CashPosition(
        received=added("received"),
        paid=added("paid"),
        underspend_returned=added("underspend_returned"),
        returned_to_funder=added("returned_to_funder"),
        underspend_due=by_year[-1].underspend_due if by_year else money.zero(),
        received_pending=added("received_pending"),
        underspend_due_pending=added("underspend_due_pending"),
        awarded=money.from_aggregate(fund.control_total.amount),
        allocated=added("allocated"),
    )
