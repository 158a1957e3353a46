"""Does a fund's ledger agree with its control total, and where does the money sit?

Only approved entries count (README, "Financial controls"); what awaits approval is reported
beside them as `pending_total`, over `pending_line_count` lines.

`reconcile(fund)` answers in a fixed number of queries whatever the number of lines: one for the
fund's figures by funding category, thematic area and organisation together (its totals and the
three breakdowns are added up from those rows, so the lines are read once), one each for the names
of those categories, areas and organisations, and one for the category budgets. `reconcile_all()`
does every fund at once in five queries. The figures are grouped on ids and the names read apart:
joined onto every entry they cost a third of the query (docs/performance.md). All figures are
`Money`, quantized to the penny by `grants.money`. The same by financial year is in
`grants.reconciliation.years`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Count, FilteredRelation, Q, Sum
from djmoney.money import Money

from grants import money
from grants.models import (
    Allocation,
    Approval,
    CategoryBudget,
    Fund,
    FundingCategory,
    LedgerEntry,
    Organisation,
    ThematicArea,
    approval_condition,
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
        .annotate(
            total=awarded_sum(approval=approval), awarded_line_count=counted_line_count(approval=approval)
        )
        .order_by(*order_by)
    )
    return [
        Subtotal(
            code=str(row[code]),
            name=row[name],
            amount=money.from_aggregate(row["total"]),
            line_count=row["awarded_line_count"],
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
    return _with_budgets(by_category, _category_budget_rows(budgets))


CATEGORY_COLUMNS = ("funding_category__code", "funding_category__name", "funding_category__sort_order")


def _category_budget_rows(budgets, *per):
    """The `budgets` (CategoryBudget rows, of one fund or many) summed per funding category, and per
    the columns `per` first (e.g. "fund_id")."""
    return budgets.order_by().values(*per, *CATEGORY_COLUMNS).annotate(total=Sum("amount"))


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
GROUPS = ("funding_category_id", "thematic_area_id")
# The award and variation entries of each line, joined with their kinds in the join's condition (as
# the benchmark's raw GROUP BY has them) rather than tested again in every aggregate's FILTER.
AWARDED = "awarded_entries"


def _with_awarded_entries(lines):
    return lines.order_by().annotate(
        **{
            AWARDED: FilteredRelation(
                "entries", condition=Q(entries__kind__in=LedgerEntry.Kind.awarded_kinds())
            )
        }
    )


def _counted(approval: Approval) -> Q:
    """Which of the joined award and variation entries count: approved ones, those awaiting
    approval, or every one recorded (a line with none has a NULL row from the outer join)."""
    counted = approval_condition(f"{AWARDED}__", approval)
    if approval is Approval.APPROVED:
        return counted
    return Q(**{f"{AWARDED}__isnull": False}) & counted


def _figures(approval: Approval = Approval.APPROVED):
    """Per group of lines: the amount counted (approved entries, or with `approval` those awaiting
    approval or all recorded) and the lines it is on, and the amount awaiting approval. Rows are
    grouped on ids alone: names joined onto every entry, even as MIN()s, cost a third of the query."""
    counted, pending = _counted(approval), _counted(Approval.PENDING)
    return {
        "total": Sum(f"{AWARDED}__amount", filter=counted),
        "awarded_line_count": Count("id", distinct=True, filter=counted),
        "pending": Sum(f"{AWARDED}__amount", filter=pending),
        "pending_line_count": Count("id", distinct=True, filter=pending),
    }


def _named(rows: list[dict]) -> list[dict]:
    """The (category, thematic area) rows with the code, name and sort order of each, read in one
    small query per table (CATEGORY and THEME keys, as `_fund_reconciliation` takes them)."""
    categories = _reference(FundingCategory, {row["funding_category_id"] for row in rows})
    themes = _reference(ThematicArea, {row["thematic_area_id"] for row in rows})
    return [
        {
            **row,
            **dict(zip(CATEGORY, categories[row["funding_category_id"]], strict=True)),
            **dict(zip(THEME, themes[row["thematic_area_id"]], strict=True)),
        }
        for row in rows
    ]


def _reference(model, ids: set[int]) -> dict[int, tuple]:
    rows = model.objects.filter(pk__in=ids).values_list("pk", "code", "name", "sort_order")
    return {pk: (code, name, sort_order) for pk, code, name, sort_order in rows}


class _Group:
    """Figures of one category, thematic area or organisation, added up from rows grouped more
    finely. Each line sits in exactly one row, so line counts add up as well as amounts."""

    def __init__(self, code: str, name: str, sort_order: int):
        self.code, self.name, self.sort_order = code, name, sort_order
        self.total, self.pending = money.Tally(), money.Tally()
        self.awarded_line_count = self.pending_line_count = 0

    def add(self, row: dict) -> None:
        # A sum over no entries is NULL, and adding nothing leaves a tally as it is.
        if row["total"] is not None:
            self.total.add(money.amount_from_aggregate(row["total"]))
        if row["pending"] is not None:
            self.pending.add(money.amount_from_aggregate(row["pending"]))
        self.awarded_line_count += row["awarded_line_count"]
        self.pending_line_count += row["pending_line_count"]

    def subtotal(self) -> Subtotal:
        return Subtotal(
            code=str(self.code), name=self.name, amount=self.total.total, line_count=self.awarded_line_count
        )

    def figures(self) -> dict:
        return {
            "total": self.total.total.amount,
            "awarded_line_count": self.awarded_line_count,
            "pending": self.pending.total.amount,
            "pending_line_count": self.pending_line_count,
        }


def _sorted_groups(groups: dict) -> list[Subtotal]:
    ordered = sorted(groups.values(), key=lambda group: (group.sort_order, group.name))
    return [group.subtotal() for group in ordered]


def _rolled_up(fine_rows, keys: tuple[str, ...]) -> dict[tuple, _Group]:
    """The figures of `fine_rows` (grouped more finely than `keys`) added up per value of `keys`."""
    groups: dict[tuple, _Group] = {}
    for row in fine_rows:
        key = tuple(row[name] for name in keys)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group("", "", 0)
        group.add(row)
    return groups


def _organisation_subtotals(by_organisation: dict[tuple, _Group]) -> list[Subtotal]:
    """Subtotals per organisation, in name order as the database sorts names. Names are unique
    (ignoring case), and unlike ids the same on every database, so a subtotal's code is its name."""
    names = (
        Organisation.objects.filter(pk__in=[key for (key,) in by_organisation])
        .order_by("name")
        .values_list("pk", "name")
    )
    ordered = []
    for pk, name in names:
        group = by_organisation[(pk,)]
        ordered.append(
            Subtotal(code=name, name=name, amount=group.total.total, line_count=group.awarded_line_count)
        )
    return ordered


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
        line_count=overall.awarded_line_count,
        pending_total=overall.pending.total,
        pending_line_count=overall.pending_line_count,
        by_category=by_category,
        by_thematic_area=_sorted_groups(themes),
        by_organisation=by_organisation or [],
    )


def reconcile(
    fund: Fund, approval: Approval = Approval.APPROVED, *, by_organisation: bool = True
) -> FundReconciliation:
    """The fund's reconciliation in five queries whatever its size: its figures by funding category,
    thematic area and organisation together (the totals and the three breakdowns are added up from
    those rows, so the lines are read once), the names of its categories, areas and organisations
    (a small query each) and its category budgets. With `by_organisation=False` the rows are by
    category and area only and the organisations' names are not read (four queries). It counts
    approved entries; with `approval=Approval.APPROVED_OR_PENDING`, every recorded entry (the figures once
    everything awaiting approval is approved)."""
    lines = _with_awarded_entries(Allocation.objects.filter(fund=fund))
    if by_organisation:
        fine = list(lines.values(*GROUPS, "organisation_id").annotate(**_figures(approval)))
        rows = [
            {**dict(zip(GROUPS, key, strict=True)), **group.figures()}
            for key, group in _rolled_up(fine, GROUPS).items()
        ]
        organisations = _organisation_subtotals(_rolled_up(fine, ("organisation_id",)))
    else:
        rows, organisations = list(lines.values(*GROUPS).annotate(**_figures(approval))), []
    rows = _named(rows)
    budget_rows = list(_category_budget_rows(CategoryBudget.objects.filter(fund=fund), "fund_id"))
    return _fund_reconciliation(fund, rows, budget_rows, organisations)


def reconcile_all() -> list[FundReconciliation]:
    """Every fund's reconciliation, in code order, in five queries whatever the number of funds and
    lines: the funds, their figures by (category, thematic area), the names of those categories and
    areas (a small query each), and their budgets. The breakdown by organisation is left empty here;
    `reconcile(fund)` gives it for one fund."""
    funds = list(Fund.objects.order_by("code"))
    rows: dict[int, list[dict]] = {fund.pk: [] for fund in funds}
    figures = (
        _with_awarded_entries(Allocation.objects.all()).values("fund_id", *GROUPS).annotate(**_figures())
    )
    for row in _named(list(figures)):
        rows[row["fund_id"]].append(row)
    budget_rows: dict[int, list[dict]] = {fund.pk: [] for fund in funds}
    for row in _category_budget_rows(CategoryBudget.objects.all(), "fund_id"):
        budget_rows[row["fund_id"]].append(row)
    return [_fund_reconciliation(fund, rows[fund.pk], budget_rows[fund.pk]) for fund in funds]


def reconciliation_from_rows(fund: Fund, rows: list[dict], budgets) -> FundReconciliation:
    """A fund's reconciliation from rows by (category, thematic area) that were summed elsewhere:
    the stored figures of `grants.figures` (`selectors.fund_groups()`), with its `budgets`
    (CategoryBudget rows) read here in one query. No breakdown by organisation."""
    return _fund_reconciliation(fund, rows, list(_category_budget_rows(budgets, "fund_id")))


def stored_category_subtotals(groups, budgets) -> list[Subtotal]:
    """Subtotals per funding category of the given stored group figures (`GroupFigures` rows of the
    chosen funds), with the summed `budgets` of each category, in two queries reading a few rows
    per fund whatever the number of lines. The same as `category_subtotals()` over those funds' lines."""
    rows = (
        groups.filter(line_count__gt=0)
        .order_by()
        .values("funding_category__code", "funding_category__name", "funding_category__sort_order")
        .annotate(total=Sum("awarded"), line_count=Sum("awarded_line_count"))
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
    return _with_budgets(by_category, _category_budget_rows(budgets))
