"""Reads for payment schedules: a line's schedule checked against its approved amount by year, the
dashboard's instalments due soon and overdue, and a fund's payment forecast by month and quarter.
Each in a number of queries that does not grow with the rows; `today` is passed in, so a test fixes
the day."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from djmoney.money import Money

from grants import money
from grants.figures import LineYearFigures
from grants.models import Allocation, Fund, Instalment, LedgerEntry
from grants.years import FinancialYear, financial_year, start_year_of

DUE_SOON_DAYS = 30
# The dashboard lists this many of each list (earliest first); its counts and totals are of all.
LISTED = 20


@dataclass(frozen=True)
class YearCheck:
    """A line's instalments due in one financial year against its approved amount for the year."""

    year: FinancialYear
    planned: Money
    approved: Money

    @property
    def difference(self) -> Money:
        """Planned less approved: positive when the instalments come to more."""
        return money.difference(self.planned, self.approved)

    @property
    def adds_up(self) -> bool:
        return self.difference.amount == 0

    @property
    def in_words(self) -> str:
        if self.adds_up:
            return f"The instalments due in {self.year.label} add up to its approved amount."
        side = "more" if self.difference.amount > 0 else "less"
        return (
            f"The instalments due in {self.year.label} come to "
            f"{money.format_gbp(abs(self.difference.amount))} {side} than the line's approved amount "
            "for the year."
        )


@dataclass
class LineSchedule:
    allocation: Allocation
    instalments: list[Instalment]
    years: list[YearCheck]
    total: Money

    @property
    def adds_up(self) -> bool:
        return all(year.adds_up for year in self.years)


def line_schedule(allocation: Allocation) -> LineSchedule:
    """The line's instalments (with their state and payment) and, for every year with instalments or
    an approved amount, the two figures side by side. Three queries."""
    instalments = list(
        Instalment.objects.with_state().filter(allocation=allocation).select_related("settled_by")
    )
    planned = {
        row["year"]: money.from_aggregate(row["total"])
        for row in Instalment.objects.filter(allocation=allocation)
        .annotate(year=start_year_of("due_date"))
        .order_by()
        .values("year")
        .annotate(total=Sum("amount"))
    }
    approved = {
        year: money.from_aggregate(awarded)
        for year, awarded in LineYearFigures.objects.filter(allocation=allocation).values_list(
            "year", "awarded"
        )
    }
    years = [
        YearCheck(FinancialYear(year), planned.get(year, money.zero()), approved.get(year, money.zero()))
        for year in sorted(set(planned) | {year for year, amount in approved.items() if amount.amount})
    ]
    return LineSchedule(
        allocation=allocation,
        instalments=instalments,
        years=years,
        total=money.total(planned.values()),
    )


def schedule_totals_by_year(fund: Fund) -> dict[tuple[int, int], Money]:
    """Every line's instalments summed by financial year, `(allocation id, start year) -> total`:
    one grouped query for the whole fund."""
    rows = (
        Instalment.objects.filter(allocation__fund=fund)
        .annotate(year=start_year_of("due_date"))
        .order_by()
        .values("allocation_id", "year")
        .annotate(total=Sum("amount"))
    )
    return {(row["allocation_id"], row["year"]): money.from_aggregate(row["total"]) for row in rows}


def schedule_differences(fund: Fund) -> list[tuple[int, int, Money]]:
    """`(line number, start year, planned less approved)` for every line and year of the fund whose
    instalments do not add up to its approved amount, among lines that have a schedule. Two queries."""
    planned = schedule_totals_by_year(fund)
    scheduled = {line for line, _ in planned}
    approved = {
        (row.allocation_id, row.year): money.from_aggregate(row.awarded)
        for row in LineYearFigures.objects.filter(fund=fund, allocation_id__in=scheduled).only(
            "allocation_id", "year", "awarded"
        )
    }
    numbers = dict(Allocation.objects.filter(pk__in=scheduled).values_list("pk", "line_number"))
    result = []
    for key in sorted(set(planned) | set(approved)):
        difference = money.difference(planned.get(key, money.zero()), approved.get(key, money.zero()))
        if difference.amount:
            result.append((numbers[key[0]], key[1], difference))
    return sorted(result)


@dataclass
class InstalmentList:
    rows: list[Instalment]
    count: int
    total: Money

    @property
    def more(self) -> int:
        return self.count - len(self.rows)


@dataclass
class DueInstalments:
    today: datetime.date
    due_soon: InstalmentList
    overdue: InstalmentList
    days: int = DUE_SOON_DAYS


def _listed(rows) -> InstalmentList:
    figures = rows.aggregate(count=Count("pk"), total=Sum("amount"))
    listed = list(
        rows.select_related("allocation__fund", "allocation__organisation", "settled_by").order_by(
            "due_date", "allocation__fund__code", "allocation__line_number", "pk"
        )[:LISTED]
    )
    return InstalmentList(listed, figures["count"], money.from_aggregate(figures["total"]))


def due_instalments(today: datetime.date, days: int = DUE_SOON_DAYS) -> DueInstalments:
    """Instalments not yet paid (no approved payment stands against them) that are due from `today`
    to `days` days on, and those whose due date has passed (overdue). Four queries, whatever the
    number of instalments."""
    not_paid = Instalment.objects.not_paid()
    return DueInstalments(
        today=today,
        due_soon=_listed(
            not_paid.filter(due_date__gte=today, due_date__lte=today + datetime.timedelta(days=days))
        ),
        overdue=_listed(not_paid.filter(due_date__lt=today)),
        days=days,
    )


@dataclass
class ForecastRow:
    label: str
    start: datetime.date
    paid: Money = field(default_factory=money.zero)
    awaiting_approval: Money = field(default_factory=money.zero)
    planned: Money = field(default_factory=money.zero)

    @property
    def total(self) -> Money:
        return money.total([self.paid, self.awaiting_approval, self.planned])


@dataclass
class PaymentForecast:
    months: list[ForecastRow]
    quarters: list[ForecastRow]
    totals: ForecastRow

    @property
    def is_empty(self) -> bool:
        return not self.months


def quarter_of(day: datetime.date) -> tuple[FinancialYear, int]:
    """The financial year and its quarter (1 is April to June) a day falls in."""
    year = financial_year(day)
    months_in = (day.year - year.start_year) * 12 + day.month - year.start.month
    return year, months_in // 3 + 1


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def payment_forecast(fund: Fund) -> PaymentForecast:
    """The fund's payments by month and by quarter: paid (approved payments, less approved
    reversals in the month of the payment each cancels), awaiting approval (payments and reversals
    recorded, not yet decided) and planned (instalments no payment stands against). Two grouped
    queries."""
    months: dict[datetime.date, ForecastRow] = {}

    def row(month) -> ForecastRow:
        month = _as_date(month)
        if month not in months:
            months[month] = ForecastRow(f"{month:%B %Y}", month)
        return months[month]

    payments = (
        LedgerEntry.objects.filter(fund=fund, kind=LedgerEntry.Kind.PAYMENT, rejected_at__isnull=True)
        # A reversal counts in the month of the payment it cancels, as the ledger counts it in that
        # payment's year (`grants.reconciliation.years.entry_year`): a mistaken payment was never paid.
        .annotate(month=TruncMonth(Coalesce("reverses__effective_date", "effective_date")))
        .order_by()
        .values("month")
        .annotate(
            paid=Sum("amount", filter=Q(approved_at__isnull=False)),
            awaiting=Sum("amount", filter=Q(approved_at__isnull=True)),
        )
    )
    for figures in payments:
        target = row(figures["month"])
        target.paid = money.from_aggregate(figures["paid"])
        target.awaiting_approval = money.from_aggregate(figures["awaiting"])
    planned = (
        Instalment.objects.unsettled()
        .filter(allocation__fund=fund)
        .annotate(month=TruncMonth("due_date"))
        .order_by()
        .values("month")
        .annotate(total=Sum("amount"))
    )
    for figures in planned:
        row(figures["month"]).planned = money.from_aggregate(figures["total"])
    ordered = [months[month] for month in sorted(months)]
    quarters: dict[tuple[int, int], ForecastRow] = {}
    for month_row in ordered:
        year, quarter = quarter_of(month_row.start)
        key = (year.start_year, quarter)
        if key not in quarters:
            quarters[key] = ForecastRow(f"{year.label} Q{quarter}", month_row.start)
        target = quarters[key]
        target.paid = money.total([target.paid, month_row.paid])
        target.awaiting_approval = money.total([target.awaiting_approval, month_row.awaiting_approval])
        target.planned = money.total([target.planned, month_row.planned])
    totals = ForecastRow("Total", fund.spend_start)
    totals.paid = money.total(row.paid for row in ordered)
    totals.awaiting_approval = money.total(row.awaiting_approval for row in ordered)
    totals.planned = money.total(row.planned for row in ordered)
    return PaymentForecast(months=ordered, quarters=list(quarters.values()), totals=totals)
