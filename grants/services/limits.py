"""The limits on a line's and a fund's money (README, "Financial controls"), read in one query.

Each limit compares what uses headroom with what gives it. An entry awaiting approval that uses
headroom counts at once; one that would give headroom (a reversal of a payment, a reduction of an
award) counts only once approved. Rejected and withdrawn entries never count.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from djmoney.money import Money

from grants import money
from grants.figures import FundFigures, GroupFigures
from grants.models import Fund, LedgerEntry
from grants.reconciliation.years import entry_year
from grants.years import FinancialYear


@dataclass(frozen=True)
class LineLimits:
    """A line's money as its limits see it (README, "Financial controls")."""

    award: Money  # approved award and variations, less reductions awaiting approval
    paid_most: Money  # approved payments, and payments awaiting approval
    paid_least: Money  # approved payments, less reversals awaiting approval
    returned_most: Money  # approved underspend returned, and returns awaiting approval
    due_most: Money = money.zero()  # approved underspend declared due, and declarations awaiting approval

    def problem(self) -> str | None:
        """What breaks a limit, if anything."""
        if self.paid_most.amount > self.award.amount:
            return (
                f"Payments would come to {money.format_gbp(self.paid_most)}, more than the approved "
                f"award of {money.format_gbp(self.award)}{_COUNTING}"
            )
        if self.returned_most.amount > self.paid_least.amount:
            return (
                f"Underspend returned would come to {money.format_gbp(self.returned_most)}, more than "
                f"the {money.format_gbp(self.paid_least)} paid{_COUNTING}"
            )
        if self.due_most.amount > self.paid_least.amount:
            return (
                f"Underspend declared due would come to {money.format_gbp(self.due_most)}, more than "
                f"the {money.format_gbp(self.paid_least)} paid{_COUNTING}"
            )
        return None


_COUNTING = (
    " (entries awaiting approval count at once where they use up the limit, and only once approved "
    "where they would free it)."
)


def _pending(sign: str) -> Q:
    return Q(approved_at__isnull=True, rejected_at__isnull=True, **{f"amount__{sign}": 0})


_APPROVED = Q(approved_at__isnull=False)


def _safe_sum(kinds: list[str], frees_when: str) -> Sum:
    """The sum of approved entries of `kinds`, with those awaiting approval that use headroom:
    `frees_when` is the sign ("gt" or "lt") of the pending amounts that would free it instead."""
    uses = "lt" if frees_when == "gt" else "gt"
    return Sum("amount", filter=Q(kind__in=kinds) & (_APPROVED | _pending(uses)))


def line_limits(allocation_ids) -> dict[int, LineLimits]:
    """Each line's `LineLimits`, in one query whatever the number of lines."""
    kinds = LedgerEntry.Kind
    rows = (
        LedgerEntry.objects.filter(allocation__in=allocation_ids)
        .order_by()
        .values("allocation")
        .annotate(
            award=_safe_sum(kinds.awarded_kinds(), frees_when="gt"),
            paid_most=_safe_sum([kinds.PAYMENT], frees_when="lt"),
            paid_least=_safe_sum([kinds.PAYMENT], frees_when="gt"),
            returned_most=_safe_sum([kinds.UNDERSPEND_RETURNED], frees_when="lt"),
            due_most=_safe_sum([kinds.UNDERSPEND_DUE], frees_when="lt"),
        )
    )
    found = {
        row["allocation"]: LineLimits(
            **{
                name: money.from_aggregate(row[name])
                for name in ("award", "paid_most", "paid_least", "returned_most", "due_most")
            }
        )
        for row in rows
    }
    empty = LineLimits(money.zero(), money.zero(), money.zero(), money.zero(), money.zero())
    return {allocation_id: found.get(allocation_id, empty) for allocation_id in allocation_ids}


def carried_out_years(allocation_ids) -> dict[tuple[int, int], Money]:
    """For each (line, start year) that money was carried forward out of (approved, or awaiting
    approval), the line's amount in that year counted the safer way: approved awards, variations and
    carry-forwards dated in it, less reductions awaiting approval. A carry-forward takes a year's money
    on to the next, so that year cannot then be reduced below nothing: the money would be counted
    twice. One query whatever the number of lines."""
    kinds = LedgerEntry.Kind
    rows = (
        LedgerEntry.objects.filter(allocation__in=allocation_ids)
        .order_by()
        .annotate(start_year=entry_year())
        .values("allocation", "start_year")
        .annotate(
            year_amount=_safe_sum(kinds.awarded_kinds(), frees_when="gt"),
            carried_out=Count(
                "pk", filter=Q(kind=kinds.CARRIED_FORWARD, amount__lt=0, rejected_at__isnull=True)
            ),
        )
        .filter(carried_out__gt=0)
    )
    return {
        (row["allocation"], int(row["start_year"])): money.from_aggregate(row["year_amount"]) for row in rows
    }


def year_floor_problem(amount: Money, start_year: int) -> str | None:
    """Why a line's amount in a year money was carried out of is refused, if it is."""
    if amount.amount >= 0:
        return None
    label = FinancialYear(start_year).label
    return (
        f"The line's amount for {label} would come to {money.format_gbp(amount)}: money was carried forward "
        f"out of {label}, so its amount there cannot fall below £0.00{_COUNTING}"
    )


def _refuse_if_limits_broken(allocation_ids, prefix: str) -> None:
    allocation_ids = list(allocation_ids)
    for limits in line_limits(allocation_ids).values():
        problem = limits.problem()
        if problem:
            raise ValidationError(f"{prefix}{problem}")
    for (_line, start_year), amount in carried_out_years(allocation_ids).items():
        problem = year_floor_problem(amount, start_year)
        if problem:
            raise ValidationError(f"{prefix}{problem}")


def fund_holds(fund: Fund) -> Money:
    """What the office still holds of the fund, as the limit on returning money to the funder sees
    it: the control total, less payments to providers, plus underspend they returned, less money
    already returned to the funder; entries awaiting approval counted in whichever direction is
    safer. Three queries whatever the fund's size: its groups' stored figures, its own, and its
    entries awaiting approval (few, and indexed)."""
    kinds = LedgerEntry.Kind
    groups = GroupFigures.objects.filter(fund=fund).aggregate(paid=Sum("paid"), returned=Sum("returned"))
    own = FundFigures.objects.filter(fund=fund).values_list("returned_to_funder", flat=True).first()
    # The stored figures count every entry not rejected; take back those awaiting approval that the
    # safe reading leaves out: payment reversals, underspend, and reversals of returns to the funder.
    waiting = (
        LedgerEntry.objects.filter(fund=fund)
        .pending()
        .aggregate(
            payment_reversals=Sum("amount", filter=Q(kind=kinds.PAYMENT, amount__lt=0)),
            underspend=Sum("amount", filter=Q(kind=kinds.UNDERSPEND_RETURNED, amount__gt=0)),
            return_reversals=Sum("amount", filter=Q(kind=kinds.RETURNED_TO_FUNDER, amount__lt=0)),
        )
    )
    paid = money.difference(
        money.from_aggregate(groups["paid"]), money.from_aggregate(waiting["payment_reversals"])
    )
    returned = money.difference(
        money.from_aggregate(groups["returned"]), money.from_aggregate(waiting["underspend"])
    )
    to_funder = money.difference(money.from_aggregate(own), money.from_aggregate(waiting["return_reversals"]))
    return money.total([fund.control_total, -paid, returned, -to_funder])
