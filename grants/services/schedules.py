"""Payment schedules: a line's planned instalments made from a pattern, edited one by one, and settled
by recording a payment against one.

A schedule is planning, not money: making or editing it is one officer's word and waits for nobody,
but it is refused on a fund whose return is submitted, a form opened before a colleague's save is
refused, and every change is kept by the audit trail. Settling an instalment rides on a payment,
which waits for approval like any payment; the instalment's state follows the payment
(`grants.models.schedules`).
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import TextChoices
from djmoney.money import Money

from grants import money
from grants.figures import LineYearFigures
from grants.models import Allocation, Instalment, LedgerEntry
from grants.services._base import OptionalUser, _as_money, _audited, _lock_allocation, _save_versioned
from grants.services.entries import payment_record
from grants.years import FinancialYear, financial_year, in_words


class Frequency(TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    HALF_YEARLY = "half_yearly", "Half-yearly"


MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.HALF_YEARLY: 6}


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (the month's last day where it has no such day: 31 January + 1 is
    28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(f"no day {day.day} in {year}-{month}")  # pragma: no cover: 28 always exists


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    def due(self, timing: str) -> datetime.date:
        return self.start if timing == Instalment.Timing.ADVANCE else self.end


def periods(start: datetime.date, end: datetime.date, frequency: str) -> list[Period]:
    """The periods of `frequency` from `start`, the last cut short at `end`."""
    step = MONTHS[Frequency(frequency)]
    result, count = [], 0
    while True:
        period_start = add_months(start, step * count)
        if period_start > end:
            return result
        period_end = min(add_months(start, step * (count + 1)) - datetime.timedelta(days=1), end)
        result.append(Period(period_start, period_end))
        count += 1


@dataclass(frozen=True)
class PlannedInstalment:
    due_date: datetime.date
    amount: Money
    timing: str


def planned_instalments(
    *, start: datetime.date, end: datetime.date, frequency: str, timing: str, by_year: dict[int, Money]
) -> list[PlannedInstalment]:
    """The instalments of a pattern: one per period, due at its start (in advance) or its end (in
    arrears); each financial year's amount (`by_year`, keyed by start year) split evenly over the
    instalments due in that year, the pennies on the last. A year with nothing to pay gets none."""
    dues = [period.due(timing) for period in periods(start, end, frequency)]
    result = []
    for year in sorted({financial_year(due).start_year for due in dues}):
        amount = by_year.get(year)
        if amount is None or amount.amount <= 0:
            continue
        in_year = [due for due in dues if financial_year(due).start_year == year]
        for due, part in zip(in_year, money.split(amount, len(in_year)), strict=True):
            if part.amount > 0:
                result.append(PlannedInstalment(due, part, timing))
    return result


def approved_by_year(allocation: Allocation) -> dict[int, Money]:
    """The line's approved amount in each financial year (its stored figures), keyed by start year."""
    rows = LineYearFigures.objects.filter(allocation=allocation).values_list("year", "awarded")
    return {year: money.from_aggregate(awarded) for year, awarded in rows}


def schedule_stamp(allocation_id: int) -> str:
    """What a schedule page was opened at: its instalments and their versions, as a short digest. A
    pattern applied from a page opened before a colleague's change is refused."""
    rows = Instalment.objects.filter(allocation_id=allocation_id).order_by("pk").values_list("pk", "version")
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()[:16]


def _standing_payment(instalment: Instalment) -> LedgerEntry | None:
    """The payment that settles the instalment and still stands (not rejected, no approved reversal)."""
    if instalment.settled_by_id is None:
        return None
    row = Instalment.objects.with_state().filter(pk=instalment.pk).values_list("state", flat=True).get()
    return None if row == Instalment.State.PLANNED else instalment.settled_by


def _settled_message(instalment: Instalment, payment: LedgerEntry) -> str:
    return (
        f"The instalment of {money.format_gbp(instalment.amount)} due {in_words(instalment.due_date)} is "
        f"settled by payment {payment.reference} of {money.format_gbp(payment.amount)}; it cannot be "
        "changed or deleted while that payment stands (an approver rejects it, or it is reversed)."
    )


def _check_dates(allocation: Allocation, due_date: datetime.date) -> None:
    fund = allocation.fund
    earliest = FinancialYear(financial_year(fund.spend_start).start_year).start
    latest = financial_year(fund.spend_end).end
    if not earliest <= due_date <= latest:
        raise ValidationError(
            {
                "due_date": f"{in_words(due_date)} is outside the fund's financial years "
                f"({in_words(earliest)} to {in_words(latest)})."
            }
        )


def _positive(amount, field: str = "amount") -> Money:
    value = _as_money(amount, field)
    if value.amount <= 0:
        raise ValidationError({field: "An instalment's amount must be more than £0.00."})
    return value


@_audited(reason="Payment schedule made from a pattern")
def schedule_from_pattern(
    *,
    allocation: Allocation,
    frequency: str,
    timing: str,
    acting_user: OptionalUser,
    year: FinancialYear | None = None,
    expected_stamp: str | None = None,
) -> list[Instalment]:
    """Plan a line's instalments from a pattern over the fund's spend period, or over one financial
    year (cut to the spend period): each year's approved amount split evenly, pennies on the last.
    Instalments already planned in that span with no payment standing against them are replaced;
    refused if one in the span has a payment, if the fund's return is submitted, or if the schedule
    changed since the page was opened (`expected_stamp`)."""
    if frequency not in Frequency.values:
        raise ValidationError({"frequency": "Choose monthly, quarterly or half-yearly."})
    if timing not in Instalment.Timing.values:
        raise ValidationError({"timing": "Choose in advance or in arrears."})
    allocation = _lock_allocation(allocation)
    if expected_stamp is not None and expected_stamp != schedule_stamp(allocation.pk):
        raise ValidationError(
            "Someone else changed this line's schedule since you opened the page. Reload it to see "
            "their changes, then make the schedule again."
        )
    fund = allocation.fund
    start, end = fund.spend_start, fund.spend_end
    if year is not None:
        start, end = max(start, year.start), min(end, year.end)
        if start > end:
            raise ValidationError({"year": f"{year.label} is outside the fund's spend period."})
    by_year = approved_by_year(allocation)
    if year is not None:
        by_year = {year.start_year: by_year.get(year.start_year, money.zero())}
    planned = planned_instalments(start=start, end=end, frequency=frequency, timing=timing, by_year=by_year)
    if not planned:
        span = year.label if year is not None else "the fund's spend period"
        raise ValidationError(f"Line {allocation.line_number} has no approved amount to plan in {span}.")
    span_years = {financial_year(row.due_date).start_year for row in planned}
    existing = Instalment.objects.with_state().filter(allocation=allocation).select_related("settled_by")
    replaced = []
    for instalment in existing:
        if financial_year(instalment.due_date).start_year not in span_years:
            continue
        if instalment.state != Instalment.State.PLANNED:
            raise ValidationError(
                f"{_settled_message(instalment, instalment.settled_by)} Edit the others one by one instead."
            )
        replaced.append(instalment.pk)
    Instalment.objects.filter(pk__in=replaced).delete()
    made = []
    for row in planned:
        instalment = Instalment(
            allocation=allocation, due_date=row.due_date, amount=row.amount, timing=row.timing
        )
        instalment.full_clean()
        instalment.save()
        made.append(instalment)
    return made


@_audited(reason="Instalment added to a payment schedule")
def instalment_create(
    *, allocation: Allocation, due_date: datetime.date, amount, timing: str, acting_user: OptionalUser
) -> Instalment:
    allocation = _lock_allocation(allocation)
    _check_dates(allocation, due_date)
    instalment = Instalment(allocation=allocation, due_date=due_date, amount=_positive(amount), timing=timing)
    instalment.full_clean()
    instalment.save()
    return instalment


GONE = "This instalment was deleted by someone else since you opened the page. Reload the schedule."


def _lock_instalment(instalment: Instalment) -> Instalment:
    _lock_allocation(instalment.allocation)
    current = (
        Instalment.objects.select_for_update()
        .select_related("allocation__fund")
        .filter(pk=instalment.pk)
        .first()
    )
    if current is None:
        # Deleted by a colleague after this request read it: a refusal, not a DoesNotExist (a 500).
        raise ValidationError(GONE)
    return current


def _refuse_if_settled(instalment: Instalment) -> None:
    payment = _standing_payment(instalment)
    if payment is not None:
        raise ValidationError(_settled_message(instalment, payment))


@_audited(reason="Instalment of a payment schedule changed")
def instalment_update(
    *,
    instalment: Instalment,
    due_date: datetime.date,
    amount,
    timing: str,
    acting_user: OptionalUser,
    expected_version: int | None = None,
) -> Instalment:
    """Change an instalment's date, amount or timing; refused while a payment settles it."""
    current = _lock_instalment(instalment)
    if expected_version is not None and current.version != expected_version:
        raise ValidationError(
            "Someone else changed this instalment since you opened the page. Reload it to see their "
            "change, then save yours again."
        )
    _refuse_if_settled(current)
    _check_dates(current.allocation, due_date)
    current.due_date, current.amount, current.timing = due_date, _positive(amount), timing
    current.full_clean()
    _save_versioned(current, current.version)
    return current


@_audited(reason="Instalment deleted from a payment schedule")
def instalment_delete(
    *, instalment: Instalment, acting_user: OptionalUser, expected_version: int | None = None
) -> None:
    """Delete a planned instalment; refused while a payment settles it."""
    current = _lock_instalment(instalment)
    if expected_version is not None and current.version != expected_version:
        raise ValidationError(
            "Someone else changed this instalment since you opened the page. Reload it to see their "
            "change before deleting it."
        )
    _refuse_if_settled(current)
    current.delete()


@_audited(reason_from="memo")
def payment_record_settling(
    *,
    allocation: Allocation,
    instalment: Instalment | None,
    amount: Money | Decimal | str,
    effective_date: datetime.date,
    reference: str,
    acting_user: OptionalUser,
    memo: str = "",
) -> LedgerEntry:
    """Record a payment (`payment_record`, which waits for approval) and, when an instalment is
    named, settle it with that payment: refused if the instalment is another line's, if a payment
    already stands against it, or if the payment is less than the instalment. Until the payment is
    approved the instalment awaits approval."""
    if instalment is None:
        return payment_record(
            allocation=allocation,
            amount=amount,
            effective_date=effective_date,
            reference=reference,
            acting_user=acting_user,
            memo=memo,
        )
    allocation = _lock_allocation(allocation)
    current = Instalment.objects.select_for_update().filter(pk=instalment.pk).first()
    if current is None:
        raise ValidationError({"instalment": GONE})
    if current.allocation_id != allocation.pk:
        raise ValidationError(
            {"instalment": f"This instalment is planned on another line, not line {allocation.line_number}."}
        )
    payment = _standing_payment(current)
    if payment is not None:
        raise ValidationError(
            {
                "instalment": f"This instalment is already settled by payment {payment.reference} of "
                f"{money.format_gbp(payment.amount)}."
            }
        )
    entry = payment_record(
        allocation=allocation,
        amount=amount,
        effective_date=effective_date,
        reference=reference,
        acting_user=acting_user,
        memo=memo or f"Instalment due {in_words(current.due_date)}",
    )
    # An instalment is settled by one payment, so that payment pays it in full: a smaller one would
    # mark it paid with money still owed. To pay part, change the instalment first and plan the rest
    # as another. (Refused after `payment_record`, whose own checks speak first; nothing is kept.)
    if entry.amount < current.amount:
        raise ValidationError(
            {
                "amount": f"A payment that settles the instalment due {in_words(current.due_date)} pays "
                f"all of it, {money.format_gbp(current.amount)}. To pay part of it, change the instalment "
                "to the part paid now and add another for the rest."
            }
        )
    current.settled_by = entry
    _save_versioned(current, current.version)
    return entry
