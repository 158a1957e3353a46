"""A fund's reconciliation by financial year: each year's lines against that year's control total.

A line's amount for a year is the sum of its award and variation entries dated in that year; its
payments, the underspend its provider returned (and declared due), and the money the office received
from and returned to the funder fall in the year of their dates too (`grants.years`). A year's
control total is the fund's `FundYear` figure for it with the fund's approved carry-forwards dated
in it (README, "Carrying forward"): a year the funder agreed to carry £X out of has £X less, the
next year £X more, and the fund's total is unchanged. A fund without a profile (like the seed fund)
has one figure for its whole spend period: its years have no control total and are reconciled only
in total, by `reconcile(fund)`. A fund with a profile has nothing from its funder for a year the
profile leaves out, so money allocated in such a year shows as over-allocated against £0.00 rather
than going unremarked.

`reconcile_by_year(fund)` answers in five queries whatever the number of lines, entries or years:
the stored figures by (year, funding category, thematic area) (`GroupYearFigures`, kept by the
database's triggers with the year worked out from each entry's date; docs/triggers.md) together with
the fund's few entries held on no line summed by year, the fund's profile, the names of the
categories and areas (2), and the underspend due and returned by (line, year) of the few lines that
have any, from which each year's outstanding underspend due at its end is worked out
(`grants.reconciliation.cash`).
Category budgets are for the whole fund, so the years' category subtotals carry none.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Case, DecimalField, ExpressionWrapper, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from djmoney.money import Money

from grants import money
from grants.models import Approval, Fund, FundYear, GroupYearFigures, LedgerEntry, approval_condition
from grants.reconciliation import (
    CATEGORY,
    THEME,
    Status,
    Subtotal,
    _Group,
    _named,
    _sorted_groups,
    describe_variance,
    status_for,
)
from grants.reconciliation.cash import cash_held, outstanding_underspend_due
from grants.years import FinancialYear, start_year_of, years_between

# A year's status when there is nothing to reconcile it against.
NO_CONTROL_TOTAL = "no control total for this year"

Kind = LedgerEntry.Kind


@dataclass(frozen=True)
class YearReconciliation:
    """One financial year of a fund: the amounts of its lines dated in the year against the year's
    control total, and the money that moved in it."""

    year: FinancialYear
    control_total: Money | None
    allocated: Money
    line_count: int
    paid: Money = field(default_factory=money.zero)
    underspend_returned: Money = field(default_factory=money.zero)
    returned_to_funder: Money = field(default_factory=money.zero)
    # Money the funder paid the office in the year (approved), and receipts awaiting approval.
    received: Money = field(default_factory=money.zero)
    received_pending: Money = field(default_factory=money.zero)
    # Underspend providers still owe at the end of the year (outstanding: `grants.reconciliation.cash`),
    # and underspend declared due in the year that awaits approval.
    underspend_due: Money = field(default_factory=money.zero)
    underspend_due_pending: Money = field(default_factory=money.zero)
    pending_total: Money = field(default_factory=money.zero)
    pending_line_count: int = 0
    # The fund's approved carry-forwards dated in the year (into it, less out of it): in the control total.
    carried_forward: Money = field(default_factory=money.zero)
    # The same apart: carried into the year from the one before, and out of it to the next (both >= 0).
    carried_in: Money = field(default_factory=money.zero)
    carried_out: Money = field(default_factory=money.zero)
    by_category: list[Subtotal] = field(default_factory=list)
    by_thematic_area: list[Subtotal] = field(default_factory=list)
    # Whether the fund has a profile at all: says why a year has no control total.
    fund_has_profile: bool = False

    @property
    def start(self) -> datetime.date:
        return self.year.start

    @property
    def end(self) -> datetime.date:
        return self.year.end

    @property
    def variance(self) -> Money | None:
        """Allocated minus the year's control total (positive when over-allocated); None without one."""
        if self.control_total is None:
            return None
        return money.difference(self.allocated, self.control_total)

    @property
    def cash_held(self) -> Money:
        """The year's change in the cash the office holds of the fund: received, less paid to
        providers, plus underspend they returned, less returned to the funder."""
        return cash_held(self.received, self.paid, self.underspend_returned, self.returned_to_funder)

    @property
    def status(self) -> Status | str:
        return NO_CONTROL_TOTAL if self.variance is None else status_for(self.variance)

    @property
    def status_class(self) -> str:
        """The status as one word for a page's badge class: "none" without a control total."""
        return "none" if self.control_total is None else str(self.status)

    @property
    def has_control_total(self) -> bool:
        return self.control_total is not None

    @property
    def is_reconciled(self) -> bool:
        return self.status is Status.RECONCILED

    @property
    def variance_in_words(self) -> str:
        if self.variance is not None:
            return describe_variance(self.variance).replace(
                "the control total", f"the control total for {self.year.label}"
            )
        if self.fund_has_profile:
            return f"The fund's profile has no control total for {self.year.label}."
        return (
            f"The fund has one control total for its whole spend period, none for {self.year.label}: "
            "it is reconciled in total."
        )

    def as_dict(self) -> dict:
        def optional(amount: Money | None) -> str | None:
            return None if amount is None else money.as_string(amount)

        return {
            "year": self.year.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "control_total": optional(self.control_total),
            "allocated": money.as_string(self.allocated),
            "paid": money.as_string(self.paid),
            "underspend_returned": money.as_string(self.underspend_returned),
            "returned_to_funder": money.as_string(self.returned_to_funder),
            "carried_forward": money.as_string(self.carried_forward),
            "carried_in": money.as_string(self.carried_in),
            "carried_out": money.as_string(self.carried_out),
            "received": money.as_string(self.received),
            "cash_held": money.as_string(self.cash_held),
            "underspend_due": money.as_string(self.underspend_due),
            "received_pending": money.as_string(self.received_pending),
            "underspend_due_pending": money.as_string(self.underspend_due_pending),
            "variance": optional(self.variance),
            "status": str(self.status),
            "line_count": self.line_count,
            "by_category": [subtotal.as_dict() for subtotal in self.by_category],
            "by_thematic_area": [subtotal.as_dict() for subtotal in self.by_thematic_area],
        }


YEAR = "financial_year"
FIGURES = ("total", "awarded_line_count", "pending", "pending_line_count", *("paid", "underspend_returned"))
# Money held on no line: returned to and received from the funder, and carry-forwards of the fund's
# control total into a year and out of it (negative).
FUND_FIGURES = ("returned_to_funder", "received", "received_pending", "carried_in", "carried_out")
AMOUNT = DecimalField(max_digits=16, decimal_places=2)


def entry_year():
    """The start year of the financial year an entry counts in, as a database expression over
    `LedgerEntry`: its date's, except that a reversal counts in the year of the entry it cancels (a
    mistaken 2023-24 award reversed in 2025 takes the money out of 2023-24, not 2025-26)."""
    return start_year_of(Coalesce("reverses__effective_date", "effective_date"))


def _if(entries: str, then) -> Case:
    """`then` when the row counts any of the `entries` (a count column or expression), else NULL: a
    sum over no entries is NULL, as `_Group.add` expects."""
    counted = F(entries) if isinstance(entries, str) else entries
    return Case(When(GreaterThan(counted, 0), then=then), default=Value(None), output_field=AMOUNT)


def _stored_year_figures(approval: Approval) -> dict:
    """Per (year, category, area), from the stored `GroupYearFigures`: the awards and variations
    `approval` counts and the lines they are on, those awaiting approval, and the money moved. Each
    line sits in one category and area, so line counts add up across the rows of a year."""
    pending = {
        "pending": _if("pending_awarded_entries", F("awarded_pending")),
        "pending_line_count": F("pending_line_count"),
    }
    if approval is Approval.APPROVED:
        return {
            "total": _if("awarded_entries", F("awarded")),
            "awarded_line_count": F("awarded_line_count"),
            **pending,
            "paid": ExpressionWrapper(F("paid") - F("paid_pending"), output_field=AMOUNT),
            "underspend_returned": ExpressionWrapper(
                F("returned") - F("returned_pending"), output_field=AMOUNT
            ),
        }
    if approval is Approval.PENDING:
        return {
            "total": _if("pending_awarded_entries", F("awarded_pending")),
            "awarded_line_count": F("pending_line_count"),
            **pending,
            "paid": F("paid_pending"),
            "underspend_returned": F("returned_pending"),
        }
    recorded = F("awarded_entries") + F("pending_awarded_entries")
    return {
        "total": _if(recorded, ExpressionWrapper(F("awarded") + F("awarded_pending"), output_field=AMOUNT)),
        "awarded_line_count": F("recorded_line_count"),
        **pending,
        "paid": F("paid"),
        "underspend_returned": F("returned"),
    }


def _year_rows(fund: Fund, approval: Approval) -> list[dict]:
    """The fund's figures per (year, category, area) read from the stored figures by year, and its
    money held on no line (returned to the funder: a few entries a fund) summed per year from its
    entries, in one query."""
    # Named apart from the table's columns (an annotation may not take a column's name); the union
    # reads them by position.
    figures = {f"figure_{name}": value for name, value in _stored_year_figures(approval).items()}
    groups = (
        GroupYearFigures.objects.filter(fund=fund)
        .order_by()
        .annotate(**figures, **{f"figure_{name}": Value(None, AMOUNT) for name in FUND_FIGURES})
        .values_list(
            "year",
            "funding_category_id",
            "thematic_area_id",
            *figures,
            *(f"figure_{name}" for name in FUND_FIGURES),
        )
    )
    # Money held on no line is on no line: no lines to count, no awards.
    nothing = {name: Value(0) if name.endswith("count") else Value(None, AMOUNT) for name in FIGURES}
    held = (
        LedgerEntry.objects.filter(fund=fund, allocation__isnull=True)
        .order_by()
        # A reversal counts in the year of the entry it cancels: a mistaken 2023-24 return
        # reversed in 2025 takes the money out of 2023-24, not 2025-26.
        .annotate(**{YEAR: entry_year()})
        .values(YEAR)
        .annotate(
            category=Value(None, IntegerField()),
            area=Value(None, IntegerField()),
            **nothing,
            **_held_figures(approval),
        )
        .values_list(YEAR, "category", "area", *FIGURES, *FUND_FIGURES)
    )
    columns = (YEAR, "funding_category_id", "thematic_area_id", *FIGURES, *FUND_FIGURES)
    return [dict(zip(columns, row, strict=True)) for row in groups.union(held, all=True)]


def _held_figures(approval: Approval) -> dict:
    """The sums of the fund's entries held on no line (`FUND_FIGURES`), by year."""
    counted, pending = approval_condition("", approval), approval_condition("", Approval.PENDING)
    # A carry-forward moves the year's control total only once approved, whatever `approval` counts
    # of the lines: in legs (into the year) and out legs (out of it, negative) apart.
    carried = Q(kind=Kind.CARRIED_FORWARD) & approval_condition("", Approval.APPROVED)

    def summed(condition: Q) -> Sum:
        return Sum("amount", filter=condition)

    return {
        "returned_to_funder": summed(Q(kind=Kind.RETURNED_TO_FUNDER) & counted),
        "received": summed(Q(kind=Kind.RECEIVED_FROM_FUNDER) & counted),
        "received_pending": summed(Q(kind=Kind.RECEIVED_FROM_FUNDER) & pending),
        "carried_in": summed(carried & Q(amount__gt=0)),
        "carried_out": summed(carried & Q(amount__lt=0)),
    }


class _Year:
    """A year's figures, added up from its rows by category and area."""

    MOVEMENTS = (
        "paid",
        "underspend_returned",
        "returned_to_funder",
        "received",
        "received_pending",
        "carried_in",
        "carried_out",
    )

    def __init__(self):
        self.overall = _Group("", "", 0)
        self.movements = {name: money.Tally() for name in self.MOVEMENTS}
        self.categories: dict[str, _Group] = {}
        self.themes: dict[str, _Group] = {}

    def add(self, row: dict) -> None:
        self.overall.add(row)
        for name in self.MOVEMENTS:
            if row[name] is not None:
                self.movements[name].add(money.amount_from_aggregate(row[name]))
        # Money returned to the funder is on no line, so in no category or area; a line's payments
        # alone give it no amount for the year, so no subtotal.
        if CATEGORY[0] in row and row["total"] is not None:
            self.categories.setdefault(row[CATEGORY[0]], _Group(*(row[key] for key in CATEGORY))).add(row)
            self.themes.setdefault(row[THEME[0]], _Group(*(row[key] for key in THEME))).add(row)

    def reconciliation(
        self,
        year: FinancialYear,
        profile_figure: Money | None,
        has_profile: bool,
        underspend_due: Money,
        underspend_due_pending: Money,
    ):
        carried_in, carried_out = self.movements["carried_in"].total, self.movements["carried_out"].total
        carried = money.total([carried_in, carried_out])
        return YearReconciliation(
            year=year,
            control_total=None if profile_figure is None else money.total([profile_figure, carried]),
            carried_forward=carried,
            carried_in=carried_in,
            carried_out=-carried_out,
            allocated=self.overall.total.total,
            line_count=self.overall.awarded_line_count,
            paid=self.movements["paid"].total,
            underspend_returned=self.movements["underspend_returned"].total,
            returned_to_funder=self.movements["returned_to_funder"].total,
            received=self.movements["received"].total,
            received_pending=self.movements["received_pending"].total,
            underspend_due=underspend_due,
            underspend_due_pending=underspend_due_pending,
            pending_total=self.overall.pending.total,
            pending_line_count=self.overall.pending_line_count,
            by_category=_sorted_groups(self.categories),
            by_thematic_area=_sorted_groups(self.themes),
            fund_has_profile=has_profile,
        )


@dataclass(frozen=True)
class _Underspend:
    """Underspend due and returned by (line, year) as `approval` counts them, and underspend declared
    due awaiting approval by year."""

    lines: dict[int, dict[int, tuple[Money, Money]]]
    due_pending: dict[int, Money]


def _underspend_by_line(fund: Fund, approval: Approval) -> _Underspend:
    """The underspend due and returned of the lines that have either, each in the year of its date
    (a reversal in its entry's year), in one query."""
    counted, pending = approval_condition("", approval), approval_condition("", Approval.PENDING)
    rows = (
        LedgerEntry.objects.filter(fund=fund, kind__in=[Kind.UNDERSPEND_DUE, Kind.UNDERSPEND_RETURNED])
        .order_by()
        .annotate(**{YEAR: entry_year()})
        .values("allocation_id", YEAR)
        .annotate(
            due=Sum("amount", filter=Q(kind=Kind.UNDERSPEND_DUE) & counted),
            returned=Sum("amount", filter=Q(kind=Kind.UNDERSPEND_RETURNED) & counted),
            due_pending=Sum("amount", filter=Q(kind=Kind.UNDERSPEND_DUE) & pending),
        )
    )
    lines: dict[int, dict[int, tuple[Money, Money]]] = {}
    due_pending: dict[int, money.Tally] = {}
    for row in rows:
        start_year = int(row[YEAR])
        lines.setdefault(row["allocation_id"], {})[start_year] = (
            money.from_aggregate(row["due"]),
            money.from_aggregate(row["returned"]),
        )
        if row["due_pending"] is not None:
            due_pending.setdefault(start_year, money.Tally()).add(
                money.amount_from_aggregate(row["due_pending"])
            )
    return _Underspend(lines, {start_year: tally.total for start_year, tally in due_pending.items()})


def _outstanding_by_year(lines: dict[int, dict[int, tuple[Money, Money]]], start_years) -> dict[int, Money]:
    """Each year's outstanding underspend due as at its end: each line's due and returned up to
    then, outstanding as `outstanding_underspend_due()` says, added up over the lines."""
    outstanding = {start_year: [] for start_year in start_years}
    for by_year in lines.values():
        due, returned = money.zero(), money.zero()
        for start_year in sorted(outstanding):
            year_due, year_returned = by_year.get(start_year, (money.zero(), money.zero()))
            due, returned = money.total([due, year_due]), money.total([returned, year_returned])
            outstanding[start_year].append(outstanding_underspend_due(due, returned))
    return {start_year: money.total(amounts) for start_year, amounts in outstanding.items()}


def reconcile_by_year(fund: Fund, approval: Approval = Approval.APPROVED) -> list[YearReconciliation]:
    """The fund's reconciliation for each financial year of its spend period and its profile, and
    any other year one of its entries is dated in, in order; in five queries whatever its size. It
    counts approved entries; with `approval=Approval.APPROVED_OR_PENDING`, every recorded entry, as
    `reconcile()` does. The years' allocated amounts add up to `reconcile(fund, approval)`'s ledger
    total."""
    rows = _year_rows(fund, approval)
    on_lines = _named([row for row in rows if row["funding_category_id"] is not None])
    rows = on_lines + [row for row in rows if row["funding_category_id"] is None]
    profile = {
        year: money.from_aggregate(amount)
        for year, amount in FundYear.objects.filter(fund=fund).values_list("year", "control_total")
    }
    years: dict[int, _Year] = {
        year.start_year: _Year() for year in years_between(fund.spend_start, fund.spend_end)
    }
    for start_year in profile:
        years.setdefault(start_year, _Year())
    for row in rows:
        years.setdefault(int(row[YEAR]), _Year()).add(row)
    has_profile = bool(profile)
    underspend = _underspend_by_line(fund, approval)
    outstanding = _outstanding_by_year(underspend.lines, years)
    return [
        years[start_year].reconciliation(
            FinancialYear(start_year),
            profile.get(start_year, money.zero()) if has_profile else None,
            has_profile,
            outstanding[start_year],
            underspend.due_pending.get(start_year, money.zero()),
        )
        for start_year in sorted(years)
    ]


class NotAYearOfTheFund(ValueError):
    pass


def year_reconciliation(
    by_year: list[YearReconciliation], year: FinancialYear, fund: Fund
) -> YearReconciliation:
    """The year's reconciliation among the fund's `by_year`; a year that is neither in its spend
    period or profile nor has any of its entries is refused in words."""
    for reconciliation in by_year:
        if reconciliation.year == year:
            return reconciliation
    labels = [reconciliation.year.label for reconciliation in by_year]
    listed = ", ".join(labels[:-1]) + f" and {labels[-1]}" if len(labels) > 1 else labels[0]
    raise NotAYearOfTheFund(
        f"{year.label} is not a year of {fund.code}: it has nothing dated in it and it is outside the "
        f"spend period; its years are {listed}"
    )


def reconcile_year(
    fund: Fund, year: FinancialYear, approval: Approval = Approval.APPROVED
) -> YearReconciliation:
    """One financial year's reconciliation of the fund (`reconcile_by_year()`'s, in its five
    queries); raises `NotAYearOfTheFund` for a year outside the fund's."""
    return year_reconciliation(reconcile_by_year(fund, approval), year, fund)
