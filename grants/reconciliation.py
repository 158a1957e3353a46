"""Does a fund's ledger agree with its control total, and where does the money sit?

Only approved entries count (README, "Financial controls"); what awaits approval is reported
beside them as `pending_total`, over `pending_line_count` lines.

`reconcile(fund)` answers in a fixed number of queries whatever the number of lines: one for the
fund's totals, one each for the subtotals by funding category, thematic area and organisation, and
one for the category budgets. All figures are `Money`, quantized to the penny by `grants.money`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Sum
from djmoney.money import Money

from grants import money
from grants.models import (
    Allocation,
    Approval,
    CategoryBudget,
    Fund,
    LedgerEntry,
    awarded_sum,
    counted_line_count,
)

AWARDED_KINDS = LedgerEntry.Kind.awarded_kinds()


class Status(StrEnum):
    RECONCILED = "reconciled"
    OVER_ALLOCATED = "over-allocated"
    UNDER_ALLOCATED = "under-allocated"


def status_for(variance: Money) -> Status:
    if variance.amount == 0:
        return Status.RECONCILED
    return Status.OVER_ALLOCATED if variance.amount > 0 else Status.UNDER_ALLOCATED


def describe_variance(variance: Money) -> str:
    """The variance in words, to the penny."""
    if variance.amount == 0:
        return "The allocations add up exactly to the control total."
    if variance.amount > 0:
        return f"The allocations come to {money.format_gbp(variance)} more than the control total."
    return f"The allocations come to {money.format_gbp(-variance)} less than the control total."


@dataclass(frozen=True)
class Subtotal:
    code: str
    name: str
    amount: Money
    line_count: int
    budget: Money | None = None

    @property
    def variance(self) -> Money | None:
        """Subtotal minus budget, where the fund ring-fences a budget for this category."""
        if self.budget is None:
            return None
        return money.difference(self.amount, self.budget)

    @property
    def status(self) -> Status | None:
        return None if self.variance is None else status_for(self.variance)

    def as_dict(self) -> dict:
        data = {
            "code": self.code,
            "name": self.name,
            "amount": money.as_string(self.amount),
            "line_count": self.line_count,
        }
        if self.budget is not None:
            data["budget"] = money.as_string(self.budget)
            data["variance"] = money.as_string(self.variance)
            data["status"] = str(self.status)
        return data


@dataclass(frozen=True)
class FundReconciliation:
    fund_code: str
    fund_name: str
    control_total: Money
    ledger_total: Money
    line_count: int
    pending_total: Money = field(default_factory=money.zero)
    pending_line_count: int = 0
    by_category: list[Subtotal] = field(default_factory=list)
    by_thematic_area: list[Subtotal] = field(default_factory=list)
    by_organisation: list[Subtotal] = field(default_factory=list)

    @property
    def variance(self) -> Money:
        """Ledger total minus control total: positive when over-allocated."""
        return money.difference(self.ledger_total, self.control_total)

    @property
    def status(self) -> Status:
        return status_for(self.variance)

    @property
    def is_reconciled(self) -> bool:
        return self.status is Status.RECONCILED

    @property
    def variance_in_words(self) -> str:
        return describe_variance(self.variance)

    def as_dict(self) -> dict:
        return {
            "fund": self.fund_code,
            "control_total": money.as_string(self.control_total),
            "ledger_total": money.as_string(self.ledger_total),
            "variance": money.as_string(self.variance),
            "status": str(self.status),
            "line_count": self.line_count,
            "pending_total": money.as_string(self.pending_total),
            "pending_line_count": self.pending_line_count,
            "by_category": [subtotal.as_dict() for subtotal in self.by_category],
            "by_thematic_area": [subtotal.as_dict() for subtotal in self.by_thematic_area],
            "by_organisation": [subtotal.as_dict() for subtotal in self.by_organisation],
        }


def subtotals(
    lines, code: str, name: str, order_by: list[str], approval: Approval = Approval.APPROVED
) -> list[Subtotal]:
    """Amount and line count of `lines` grouped by the `code` and `name` fields, in one query."""
    rows = (
        lines.order_by()
        .values(code, name)
        .annotate(total=awarded_sum(approval=approval), lines=counted_line_count(approval=approval))
        .order_by(*order_by)
    )
    return [
        Subtotal(
            code=str(row[code]),
            name=row[name],
            amount=money.from_aggregate(row["total"]),
            line_count=row["lines"],
        )
        for row in rows
    ]


def category_subtotals(lines, budgets, approval: Approval = Approval.APPROVED) -> list[Subtotal]:
    """Subtotals per funding category of `lines`, with the summed `budgets` (CategoryBudget rows)
    of each category, in two queries. A ring-fenced category with nothing allocated yet is listed
    too: its unspent budget is a variance to show."""
    by_category = subtotals(
        lines,
        "funding_category__code",
        "funding_category__name",
        ["funding_category__sort_order", "funding_category__name"],
        approval,
    )
    budget_rows = (
        budgets.order_by()
        .values("funding_category__code", "funding_category__name", "funding_category__sort_order")
        .annotate(total=Sum("amount"))
        .order_by("funding_category__sort_order", "funding_category__code")
    )
    budget_totals = {row["funding_category__code"]: row for row in budget_rows}
    rows = [
        dataclasses.replace(
            subtotal,
            budget=money.from_aggregate(budget_totals.pop(subtotal.code)["total"])
            if subtotal.code in budget_totals
            else None,
        )
        for subtotal in by_category
    ]
    rows += [
        Subtotal(
            code=code,
            name=row["funding_category__name"],
            amount=money.zero(),
            line_count=0,
            budget=money.from_aggregate(row["total"]),
        )
        for code, row in budget_totals.items()
    ]
    return rows


def reconcile(fund: Fund, approval: Approval = Approval.APPROVED) -> FundReconciliation:
    """The fund's reconciliation, counting approved entries; with `approval=Approval.RECORDED`, every
    recorded entry (what the figures will be once everything awaiting approval is approved)."""
    lines = Allocation.objects.filter(fund=fund)
    totals = lines.aggregate(
        total=awarded_sum(approval=approval),
        lines=counted_line_count(approval=approval),
        pending=awarded_sum(approval=Approval.PENDING),
        pending_lines=counted_line_count(approval=Approval.PENDING),
    )

    by_category = category_subtotals(lines, CategoryBudget.objects.filter(fund=fund), approval)

    return FundReconciliation(
        fund_code=fund.code,
        fund_name=fund.name,
        control_total=money.from_aggregate(fund.control_total.amount),
        ledger_total=money.from_aggregate(totals["total"]),
        line_count=totals["lines"],
        pending_total=money.from_aggregate(totals["pending"]),
        pending_line_count=totals["pending_lines"],
        by_category=by_category,
        by_thematic_area=subtotals(
            lines,
            "thematic_area__code",
            "thematic_area__name",
            ["thematic_area__sort_order", "thematic_area__name"],
            approval,
        ),
        by_organisation=subtotals(
            lines,
            # Names are unique (ignoring case), and unlike ids the same on every database.
            "organisation__name",
            "organisation__name",
            ["organisation__name"],
            approval,
        ),
    )
