"""Reads for provider returns: a line's returns and their states, what is due and overdue, the ledger's
figures a return is checked against, and the data of the workbooks (a provider's return, and the
monitoring return to the MoJ). Each in a number of queries that does not grow with the lines."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from grants import money
from grants.exports.provider_return import MeasureRow, ProviderReturnData
from grants.figures.models import LineYearFigures
from grants.imports.returns import ExpectedMeasure
from grants.models import (
    Allocation,
    LedgerEntry,
    Measure,
    ProviderReturn,
    ProviderReturnValue,
    ReportingPeriod,
)
from grants.years import financial_year, start_year_of

NOT_YET_DUE, DUE, OVERDUE, RECEIVED, ACCEPTED = "not yet due", "due", "overdue", "received", "accepted"
NOT_EXPECTED = "nothing to report"  # no approved amount in the period's financial year


def period_state(
    period: ReportingPeriod,
    provider_return: ProviderReturn | None,
    today: datetime.date,
    expected: bool = True,
) -> str:
    """Not yet due (the period has not ended), due (ended, due date not passed), overdue, received,
    accepted; nothing to report when no return was received and the line was not `expected` to make
    one (no approved amount in the period's year)."""
    if provider_return is not None:
        return ACCEPTED if provider_return.is_accepted else RECEIVED
    if not expected:
        return NOT_EXPECTED
    if today <= period.end:
        return NOT_YET_DUE
    return DUE if today <= period.due_date else OVERDUE


def expected_measures(fund) -> list[ExpectedMeasure]:
    """Every measure of the fund, the retired marked so: a workbook made before a measure was retired
    holds its cell (read, as the provider filled it in), one made since does not (not required)."""
    return [ExpectedMeasure(m.pk, m.name, m.kind, m.is_retired) for m in Measure.objects.filter(fund=fund)]


@dataclass(frozen=True)
class LineReturnRow:
    period: ReportingPeriod
    provider_return: ProviderReturn | None
    state: str


def line_returns(allocation: Allocation, today: datetime.date) -> list[LineReturnRow]:
    """Every reporting period of the line's fund with the line's return for it and its state: three
    queries (the line's returns, the years it has an award in, the periods)."""
    years = expected_to_report(allocation)
    returns = {
        r.period_id: r
        for r in ProviderReturn.objects.filter(allocation=allocation).select_related(
            "imported_by", "accepted_by"
        )
    }
    return [
        LineReturnRow(
            period,
            returns.get(period.pk),
            period_state(
                period, returns.get(period.pk), today, financial_year(period.start).start_year in years
            ),
        )
        for period in ReportingPeriod.objects.filter(fund_id=allocation.fund_id)
    ]


@dataclass(frozen=True)
class Outstanding:
    period: ReportingPeriod
    allocation: Allocation
    state: str  # DUE or OVERDUE


def returns_outstanding(today: datetime.date, fund=None) -> list[Outstanding]:
    """Every return that is due or overdue and not received, by fund, period and line: three queries
    (the periods ended, the lines expected to report in their years, the returns received for those
    periods). A line is expected to report for a period only if it has an approved amount above
    £0.00 in the period's financial year (its stored figures for the year): a line with nothing
    awarded that year has nothing to report."""
    periods = ReportingPeriod.objects.filter(end__lt=today).select_related("fund")
    if fund is not None:
        periods = periods.filter(fund=fund)
    periods = list(periods)
    if not periods:
        return []
    expected: dict[tuple[int, int], list[Allocation]] = {}
    for figures in (
        LineYearFigures.objects.filter(
            fund_id__in={p.fund_id for p in periods},
            year__in={financial_year(p.start).start_year for p in periods},
            awarded__gt=0,
        )
        .select_related("allocation__organisation", "allocation__fund")
        .order_by("fund_id", "year", "allocation__line_number")
    ):
        expected.setdefault((figures.fund_id, figures.year), []).append(figures.allocation)
    received = set(
        ProviderReturn.objects.filter(period__in=periods).values_list("allocation_id", "period_id")
    )
    rows = []
    for period in sorted(periods, key=lambda p: (p.fund.code, p.start)):
        state = DUE if today <= period.due_date else OVERDUE
        rows.extend(
            Outstanding(period, line, state)
            for line in expected.get((period.fund_id, financial_year(period.start).start_year), [])
            if (line.pk, period.pk) not in received
        )
    return rows


def expected_to_report(allocation: Allocation) -> set[int]:
    """The financial years (start years) in which the line has an approved amount above £0.00, and so
    a return to make for each of their periods: one query."""
    return set(
        LineYearFigures.objects.filter(allocation=allocation, awarded__gt=0).values_list("year", flat=True)
    )


def overdue_count(today: datetime.date) -> int:
    """How many returns are overdue across every fund: one query over the overdue periods, each
    counting the lines with an approved amount above £0.00 in its financial year that have sent no
    return for it."""
    missing = (
        LineYearFigures.objects.filter(fund_id=OuterRef("fund_id"), year=OuterRef("year"), awarded__gt=0)
        .exclude(
            Exists(
                ProviderReturn.objects.filter(
                    allocation_id=OuterRef("allocation_id"), period_id=OuterRef(OuterRef("pk"))
                )
            )
        )
        .order_by()
        .values("fund_id")
        .annotate(n=Count("allocation_id"))
    )
    rows = (
        ReportingPeriod.objects.filter(due_date__lt=today)
        .annotate(year=start_year_of("start"))
        .annotate(missing=Coalesce(Subquery(missing.values("n")), 0))
        .values_list("missing", flat=True)
    )
    return sum(rows)


@dataclass(frozen=True)
class LedgerSide:
    """A line's money in a period's financial year, up to the period's end, as a return is checked
    against it. `paid` counts approved payments less reversals, approved or awaiting approval: a
    payment awaiting approval (`paid_pending`) is shown beside it and never counted, so an underspend
    is never asked back on money not yet paid, nor on a payment being undone."""

    award_for_year: Decimal
    paid: Decimal
    paid_pending: Decimal
    underspend_due: Decimal  # declared due in the year: approved, and awaiting approval
    underspend_returned: Decimal  # approved
    underspend_due_approved: Decimal = Decimal("0.00")


def _in_year_to_be_compared(entries, period: ReportingPeriod):
    """The entries counted in the period's financial year: a reversal on the date of the entry it cancels."""
    year = financial_year(period.start)
    return (
        entries.annotate(counted_on=Coalesce("reverses__effective_date", "effective_date"))
        .filter(counted_on__gte=year.start, counted_on__lte=year.end)
        .order_by()
    )


def _side_sums(period: ReportingPeriod) -> dict:
    """The sums of a `LedgerSide`, by name, over entries of the period's year."""
    kinds = LedgerEntry.Kind
    approved = Q(approved_at__isnull=False)
    to_end = Q(counted_on__lte=period.end)
    pending = Q(approved_at__isnull=True, rejected_at__isnull=True)
    # A payment's reversal awaiting approval already counts (the safer way: no underspend is asked
    # back on a payment being undone); a payment awaiting approval does not.
    pending_reversal = pending & Q(reverses__isnull=False)
    return {
        "award": Sum("amount", filter=Q(kind__in=kinds.awarded_kinds()) & approved),
        "paid": Sum("amount", filter=Q(kind=kinds.PAYMENT) & (approved | pending_reversal) & to_end),
        "paid_pending": Sum("amount", filter=Q(kind=kinds.PAYMENT, amount__gt=0) & pending & to_end),
        "due": Sum("amount", filter=Q(kind=kinds.UNDERSPEND_DUE, rejected_at__isnull=True)),
        "returned": Sum("amount", filter=Q(kind=kinds.UNDERSPEND_RETURNED) & approved),
        "due_approved": Sum("amount", filter=Q(kind=kinds.UNDERSPEND_DUE) & approved),
    }


def ledger_side(allocation_ids, period: ReportingPeriod) -> dict[int, LedgerSide]:
    """Each line's `LedgerSide` for the period: one query whatever the number of lines. A reversal
    counts on the date of the entry it cancels, as the ledger's year figures count it
    (`grants.figures.sql.entry_year`): a payment undone next April was not paid in this year."""
    rows = (
        _in_year_to_be_compared(LedgerEntry.objects.filter(allocation__in=allocation_ids), period)
        .values("allocation")
        .annotate(**_side_sums(period))
    )
    found = {
        row["allocation"]: LedgerSide(
            *(
                money.amount_from_aggregate(row[name])
                for name in ("award", "paid", "paid_pending", "due", "returned", "due_approved")
            )
        )
        for row in rows
    }
    nothing = LedgerSide(Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    return {pk: found.get(pk, nothing) for pk in allocation_ids}


@dataclass(frozen=True)
class Comparison:
    """What a preview says of a return against the ledger: each finding in words, and the underspend
    the return shows as due (0 when none)."""

    findings: list[str] = field(default_factory=list)
    underspend: Decimal = Decimal("0.00")


def compare(period: ReportingPeriod, side: LedgerSide, spend_to_date: Decimal | None) -> Comparison:
    """The return's declared spend to date against the ledger (no queries)."""
    if spend_to_date is None:
        return Comparison(["The spend to date could not be read, so it is not compared with the ledger."])
    gbp = money.format_gbp
    findings = [
        f"Declared spend to date {gbp(spend_to_date)}; paid in {financial_year(period.start).label} to "
        f"{period.end:%-d %B %Y} {gbp(side.paid)} (approved payments only, less any reversal "
        "awaiting approval"
        + (f"; {gbp(side.paid_pending)} awaiting approval is not counted)" if side.paid_pending else ")")
        + f"; award for the year {gbp(side.award_for_year)}."
    ]
    underspend = Decimal("0.00")
    if spend_to_date > side.paid:
        findings.append(f"Spent {gbp(spend_to_date - side.paid)} more than paid.")
    elif spend_to_date < side.paid:
        gap = side.paid - spend_to_date
        if period.end == financial_year(period.start).end:
            underspend = max(gap - side.underspend_due, Decimal("0.00"))
            findings.append(
                f"Spent {gbp(gap)} less than paid at the year end: underspend of {gbp(gap)} is due back"
                + (
                    f"; {gbp(side.underspend_due)} is already recorded as due, so {gbp(underspend)} remains "
                    "to record."
                    if side.underspend_due
                    else "."
                )
            )
        else:
            findings.append(f"Spent {gbp(gap)} less than paid so far (not yet the year end).")
    else:
        findings.append("Spend to date equals what was paid.")
    if spend_to_date > side.award_for_year:
        findings.append(
            f"Spend to date is {gbp(spend_to_date - side.award_for_year)} more than the award for the year."
        )
    return Comparison(findings, underspend)


def provider_return_data(allocation: Allocation, period: ReportingPeriod) -> ProviderReturnData:
    """What the line's workbook for the period is pre-filled with: three queries."""
    side = ledger_side([allocation.pk], period)[allocation.pk]
    year = financial_year(period.start)
    return ProviderReturnData(
        fund_code=allocation.fund.code,
        fund_name=allocation.fund.name,
        organisation=allocation.organisation.name,
        line_id=allocation.pk,
        line_number=allocation.line_number,
        service=allocation.service,
        period_id=period.pk,
        period_label=period.label,
        period_start=period.start,
        period_end=period.end,
        due_date=period.due_date,
        year_label=year.label,
        award_for_year=side.award_for_year,
        paid_to_date=side.paid,
        measures=tuple(
            MeasureRow(f"measure:{m.pk}", m.name, m.kind)
            for m in Measure.objects.filter(fund_id=allocation.fund_id, retired_at__isnull=True)
        ),
    )


@dataclass(frozen=True)
class MonitoringLine:
    line_number: int
    organisation: str
    award_for_year: Decimal
    paid: Decimal
    spend_to_date: Decimal | None  # None: no return received
    period_spend: Decimal | None  # the period's spend as the provider stated its total
    values: dict[int, Decimal]  # by measure pk
    underspend_due: Decimal
    underspend_returned: Decimal
    state: str


@dataclass(frozen=True)
class MonitoringData:
    fund_code: str
    fund_name: str
    period: ReportingPeriod
    year_label: str
    measures: list[Measure]
    lines: list[MonitoringLine]
    # The ledger's award for the year and paid to the period's end over all the fund's lines, summed
    # apart from the lines' rows, for the workbook's checks to compare the rows' totals with.
    ledger_award: Decimal = Decimal("0.00")
    ledger_paid: Decimal = Decimal("0.00")


def monitoring_data(fund, period: ReportingPeriod, today: datetime.date) -> MonitoringData:
    """The monitoring return's figures for a fund and a period: six queries whatever the number of lines
    (the last the fund's award and paid summed in one, apart from the lines', for the checks)."""
    lines = list(Allocation.objects.filter(fund=fund).select_related("organisation").order_by("line_number"))
    sides = ledger_side([line.pk for line in lines], period)
    returns = {r.allocation_id: r for r in ProviderReturn.objects.filter(period=period)}
    values: dict[int, dict[int, Decimal]] = {}
    for allocation_id, measure_id, value in ProviderReturnValue.objects.filter(
        provider_return__period=period
    ).values_list("provider_return__allocation_id", "measure_id", "value"):
        values.setdefault(allocation_id, {})[measure_id] = value
    sums = _side_sums(period)
    totals = _in_year_to_be_compared(LedgerEntry.objects.filter(allocation__fund=fund), period).aggregate(
        award=sums["award"], paid=sums["paid"]
    )
    rows = []
    for line in lines:
        side, found = sides[line.pk], returns.get(line.pk)
        rows.append(
            MonitoringLine(
                line_number=line.line_number,
                organisation=line.organisation.name,
                award_for_year=side.award_for_year,
                paid=side.paid,
                spend_to_date=found.spend_to_date.amount if found else None,
                period_spend=found.period_spend.amount if found else None,
                values=values.get(line.pk, {}),
                underspend_due=side.underspend_due_approved,
                underspend_returned=side.underspend_returned,
                state=period_state(period, found, today, side.award_for_year > 0),
            )
        )
    return MonitoringData(
        fund_code=fund.code,
        fund_name=fund.name,
        period=period,
        year_label=financial_year(period.start).label,
        # A retired measure stays while a return for the period holds a figure for it.
        measures=[
            m
            for m in Measure.objects.filter(fund=fund)
            if not m.is_retired or any(m.pk in found for found in values.values())
        ],
        lines=rows,
        ledger_award=money.amount_from_aggregate(totals["award"]),
        ledger_paid=money.amount_from_aggregate(totals["paid"]),
    )


@dataclass(frozen=True)
class ReturnReview:
    """A received return as an approver reads it before accepting: every figure the provider gave,
    its explanation, and the preview's comparison with the ledger as it stands now."""

    provider_return: ProviderReturn
    spend: list[tuple[str, Decimal]]
    outputs: list[tuple[str, Decimal]]
    comparison: Comparison


def return_review(pk: int) -> ReturnReview | None:
    """The return `pk` with its figures and comparison: three queries (the return with its line,
    period and people; its figures; the ledger's side)."""
    found = (
        ProviderReturn.objects.select_related(
            "allocation__fund", "allocation__organisation", "period", "imported_by", "accepted_by"
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        return None
    spend, outputs = [], []
    for value in ProviderReturnValue.objects.filter(provider_return=found).select_related("measure"):
        (spend if value.measure.kind == Measure.Kind.SPEND else outputs).append(
            (value.measure.name, value.value)
        )
    side = ledger_side([found.allocation_id], found.period)[found.allocation_id]
    return ReturnReview(found, spend, outputs, compare(found.period, side, found.spend_to_date.amount))
