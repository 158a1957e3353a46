"""Does a fund's ledger agree with its control total, and where does the money sit?

Only approved entries count (README, "Financial controls"); what awaits approval is reported
beside them as `pending_total`, over `pending_line_count` lines.

`reconcile(fund)` answers in a fixed number of queries whatever the number of lines: one for the
fund's figures by funding category and thematic area together (its totals and both breakdowns are
added up from those rows, so the lines are read once rather than three times), one for the
subtotals by organisation, and one for the category budgets. `reconcile_all()` does every fund at
once in three queries. All figures are `Money`, quantized to the penny by `grants.money`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Min, Sum
from djmoney.money import Money

from grants import money
from grants.models import (
    Allocation,
    Approval,
    CategoryBudget,
    Fund,
    awarded_sum,
    counted_line_count,
)


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


def category_subtotals(lines, budgets) -> list[Subtotal]:
    """Subtotals per funding category of `lines`, with the summed `budgets` (CategoryBudget rows)
    of each category, in two queries. A ring-fenced category with nothing allocated yet is listed
    too: its unspent budget is a variance to show."""
    by_category = subtotals(
        lines,
        "funding_category__code",
        "funding_category__name",
        ["funding_category__sort_order", "funding_category__name"],
    )
    budget_rows = (
        budgets.order_by()
        .values("funding_category__code", "funding_category__name", "funding_category__sort_order")
        .annotate(total=Sum("amount"))
    )
    return _with_budgets(by_category, budget_rows)


def _with_budgets(by_category: list[Subtotal], budget_rows) -> list[Subtotal]:
    """The category subtotals with their budgets (rows of summed CategoryBudget amounts per category).
    A ring-fenced category with nothing allocated yet is listed too, after the others in category
    order: its unspent budget is a variance to show."""
    budgets = {row["funding_category__code"]: row for row in budget_rows}
    rows = [
        dataclasses.replace(
            subtotal,
            budget=money.from_aggregate(budgets.pop(subtotal.code)["total"])
            if subtotal.code in budgets
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
        for code, row in sorted(
            budgets.items(), key=lambda item: (item[1]["funding_category__sort_order"], item[0])
        )
    ]
    return rows


CATEGORY = ("category_code", "category_name", "category_sort_order")
THEME = ("theme_code", "theme_name", "theme_sort_order")
# Rows are grouped on the two ids; the names ride along as MIN() of the joined columns rather than
# as grouping keys, so the database sorts or hashes two integers per entry instead of six strings.
NAMES = {
    "category_code": Min("funding_category__code"),
    "category_name": Min("funding_category__name"),
    "category_sort_order": Min("funding_category__sort_order"),
    "theme_code": Min("thematic_area__code"),
    "theme_name": Min("thematic_area__name"),
    "theme_sort_order": Min("thematic_area__sort_order"),
}
GROUPS = ("funding_category_id", "thematic_area_id")


def _figures(approval: Approval = Approval.APPROVED):
    """Per group of lines: the amount counted (approved entries, or with `approval` those awaiting
    approval or all recorded) and the lines it is on, and the amount awaiting approval."""
    return {
        "total": awarded_sum(approval=approval),
        "lines": counted_line_count(approval=approval),
        "pending": awarded_sum(approval=Approval.PENDING),
        "pending_lines": counted_line_count(approval=Approval.PENDING),
    }


class _Group:
    """Figures of one category or thematic area, added up from the (category, area) rows. Each
    line sits in exactly one row, so line counts add up as well as amounts."""

    def __init__(self, code: str, name: str, sort_order: int):
        self.code, self.name, self.sort_order = code, name, sort_order
        self.total, self.pending = money.Tally(), money.Tally()
        self.lines = self.pending_lines = 0

    def add(self, row: dict) -> None:
        self.total.add(money.from_aggregate(row["total"]).amount)
        self.pending.add(money.from_aggregate(row["pending"]).amount)
        self.lines += row["lines"]
        self.pending_lines += row["pending_lines"]

    def subtotal(self) -> Subtotal:
        return Subtotal(code=str(self.code), name=self.name, amount=self.total.total, line_count=self.lines)


def _sorted_groups(groups: dict) -> list[Subtotal]:
    ordered = sorted(groups.values(), key=lambda group: (group.sort_order, group.name))
    return [group.subtotal() for group in ordered]


def _fund_reconciliation(fund: Fund, rows: list[dict], budget_rows: list[dict], by_organisation=None):
    """A fund's reconciliation from its (category, thematic area) rows and its budget rows."""
    overall = _Group("", "", 0)
    categories: dict[str, _Group] = {}
    themes: dict[str, _Group] = {}
    for row in rows:
        overall.add(row)
        categories.setdefault(row[CATEGORY[0]], _Group(*(row[key] for key in CATEGORY))).add(row)
        themes.setdefault(row[THEME[0]], _Group(*(row[key] for key in THEME))).add(row)
    by_category = _with_budgets(_sorted_groups(categories), budget_rows)
    return FundReconciliation(
        fund_code=fund.code,
        fund_name=fund.name,
        control_total=money.from_aggregate(fund.control_total.amount),
        ledger_total=overall.total.total,
        line_count=overall.lines,
        pending_total=overall.pending.total,
        pending_line_count=overall.pending_lines,
        by_category=by_category,
        by_thematic_area=_sorted_groups(themes),
        by_organisation=by_organisation or [],
    )


def _budget_rows(budgets):
    return (
        budgets.order_by()
        .values("fund_id", "funding_category__code", "funding_category__name", "funding_category__sort_order")
        .annotate(total=Sum("amount"))
    )


def reconcile(
    fund: Fund, approval: Approval = Approval.APPROVED, *, by_organisation: bool = True
) -> FundReconciliation:
    """The fund's reconciliation in three queries whatever its size: its figures by funding category
    and thematic area together (the totals and both breakdowns are added up from those rows), its
    figures by organisation (left out, and one query fewer, with `by_organisation=False`), and its
    category budgets. It counts approved entries; with `approval=Approval.RECORDED`, every recorded
    entry (the figures once everything awaiting approval is approved)."""
    lines = Allocation.objects.filter(fund=fund)
    rows = list(lines.order_by().values(*GROUPS).annotate(**NAMES, **_figures(approval)))
    organisations = (
        subtotals(
            lines,
            # Names are unique (ignoring case), and unlike ids the same on every database.
            "organisation__name",
            "organisation__name",
            ["organisation__name"],
            approval,
        )
        if by_organisation
        else []
    )
    budget_rows = list(_budget_rows(CategoryBudget.objects.filter(fund=fund)))
    return _fund_reconciliation(fund, rows, budget_rows, organisations)


def reconcile_all() -> list[FundReconciliation]:
    """Every fund's reconciliation, in code order, in three queries whatever the number of funds and
    lines: the funds, their figures by (category, thematic area), and their budgets. The breakdown
    by organisation is left empty here; `reconcile(fund)` gives it for one fund."""
    funds = list(Fund.objects.order_by("code"))
    rows: dict[int, list[dict]] = {fund.pk: [] for fund in funds}
    for row in Allocation.objects.order_by().values("fund_id", *GROUPS).annotate(**NAMES, **_figures()):
        rows[row["fund_id"]].append(row)
    budget_rows: dict[int, list[dict]] = {fund.pk: [] for fund in funds}
    for row in _budget_rows(CategoryBudget.objects.all()):
        budget_rows[row["fund_id"]].append(row)
    return [_fund_reconciliation(fund, rows[fund.pk], budget_rows[fund.pk]) for fund in funds]


def reconciliation_from_rows(fund: Fund, rows: list[dict], budgets) -> FundReconciliation:
    """A fund's reconciliation from rows by (category, thematic area) that were summed elsewhere:
    the stored figures of `grants.figures` (`selectors.fund_groups()`), with its `budgets`
    (CategoryBudget rows) read here in one query. No breakdown by organisation."""
    return _fund_reconciliation(fund, rows, list(_budget_rows(budgets)))


def stored_category_subtotals(groups, budgets) -> list[Subtotal]:
    """Subtotals per funding category of the given stored group figures (`GroupFigures` rows of the
    chosen funds), with the summed `budgets` of each category, in two queries reading a few rows
    per fund whatever the number of lines. The same as `category_subtotals()` over those funds' lines."""
    rows = (
        groups.filter(allocations__gt=0)
        .order_by()
        .values("funding_category__code", "funding_category__name", "funding_category__sort_order")
        .annotate(total=Sum("awarded"), line_count=Sum("lines"))
        .order_by("funding_category__sort_order", "funding_category__name")
    )
    by_category = [
        Subtotal(
            code=str(row["funding_category__code"]),
            name=row["funding_category__name"],
            amount=money.from_aggregate(row["total"]),
            line_count=row["line_count"],
        )
        for row in rows
    ]
    budget_rows = (
        budgets.order_by()
        .values("funding_category__code", "funding_category__name", "funding_category__sort_order")
        .annotate(total=Sum("amount"))
    )
    return _with_budgets(by_category, budget_rows)
