"""Writes for provider returns: a fund's reporting periods and measures, a completed return imported
(all or nothing, with the file's SHA-256), the underspend it declares recorded as due through the
ordinary service, and its acceptance by someone other than its importer."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone

from grants import money
from grants.imports import ImportRefused, Problem
from grants.imports.returns import ReadReturn, read_return
from grants.models import Allocation, Fund, Measure, ProviderReturn, ProviderReturnValue, ReportingPeriod
from grants.selectors.returns import Comparison, compare, expected_measures, ledger_side
from grants.services._base import OptionalUser, _audited, check_and_bump_version
from grants.services.entries import underspend_due_record
from grants.years import years_between

QUARTERLY, HALF_YEARLY = "quarterly", "half-yearly"
FREQUENCIES = {QUARTERLY: 3, HALF_YEARLY: 6}

# Paragraph 26 of the seed report names the costs the 2020 fund met; the outputs are those offices ask for.
STANDARD_MEASURES = [
    (Measure.Kind.SPEND, "Staff"),
    (Measure.Kind.SPEND, "PPE"),
    (Measure.Kind.SPEND, "IT and remote working"),
    (Measure.Kind.SPEND, "Premises adaptations (such as screens)"),
    (Measure.Kind.SPEND, "Other"),
    (Measure.Kind.OUTPUT, "Victims supported"),
    (Measure.Kind.OUTPUT, "Referrals received"),
    (Measure.Kind.OUTPUT, "Counselling sessions"),
]


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: datetime.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def default_due_date(end: datetime.date) -> datetime.date:
    """A month after the period's end: the last day of the following month (30 June -> 31 July)."""
    return _month_end(*_add_months(end, 1))


@_audited(reason="Reporting periods set up")
def reporting_periods_create(
    *, fund: Fund, frequency: str, acting_user: OptionalUser
) -> list[ReportingPeriod]:
    """Quarters or halves of each financial year of the fund's spend period, each due a month after
    its end; none that ends before the fund starts spending (the seed fund, from 23 March 2020, has
    no return for April to December 2019), while each year's last period stays, for the year-end
    return. Refused if the fund already has periods (change their due dates instead)."""
    if frequency not in FREQUENCIES:
        raise ValidationError({"frequency": "Choose quarterly or half-yearly."})
    fund = Fund.objects.select_for_update().get(pk=fund.pk)
    if ReportingPeriod.objects.filter(fund=fund).exists():
        raise ValidationError(
            "This fund already has its reporting periods; change a period's due date instead."
        )
    months = FREQUENCIES[frequency]
    periods = []
    for year in years_between(fund.spend_start, fund.spend_end):
        start = year.start
        while start <= year.end:
            end = _month_end(*_add_months(start, months - 1))
            if end < fund.spend_start:  # wholly before the fund spends: nothing to report
                start = end + datetime.timedelta(days=1)
                continue
            period = ReportingPeriod(fund=fund, start=start, end=end, due_date=default_due_date(end))
            period.full_clean()
            period.save()
            periods.append(period)
            start = end + datetime.timedelta(days=1)
    return periods


@_audited(reason="Due date of a reporting period changed")
def reporting_period_set_due(
    *, period: ReportingPeriod, due_date: datetime.date, expected_version: int, acting_user: OptionalUser
) -> ReportingPeriod:
    if due_date < period.end:
        raise ValidationError(
            {"due_date": f"The period ends on {period.end:%-d %B %Y}; a return cannot be due before."}
        )
    period.version = check_and_bump_version(ReportingPeriod, period.pk, expected_version, due_date=due_date)
    period.due_date = due_date
    return period


@_audited(reason="Measure added to the fund's returns")
def measure_create(*, fund: Fund, kind: str, name: str, acting_user: OptionalUser) -> Measure:
    position = (Measure.objects.filter(fund=fund, kind=kind).aggregate(last=Max("position"))["last"] or 0) + 1
    measure = Measure(fund=fund, kind=kind, name=" ".join(name.split()), position=position)
    measure.full_clean()
    measure.save()
    return measure


@_audited(reason="Measure retired from the fund's returns")
def measure_retire(*, measure: Measure, expected_version: int, acting_user: OptionalUser) -> Measure:
    """A finance officer stops the fund asking for `measure`: new workbooks leave it out and an import
    no longer requires it; the returns already made keep their figures for it, and the audit trail
    the change. Refused if it is already retired or was changed since it was shown."""
    if acting_user is None or not acting_user.has_perm("grants.change_measure"):
        raise ValidationError("Only a finance officer can retire a measure.")
    current = Measure.objects.select_for_update().get(pk=measure.pk)
    if current.is_retired:
        raise ValidationError(f"{current.name!r} is already retired.")
    now = timezone.now()
    current.version = check_and_bump_version(Measure, current.pk, expected_version, retired_at=now)
    current.retired_at = now
    return current


@_audited(reason="Standard measures added to the fund's returns")
def measures_standard_create(*, fund: Fund, acting_user: OptionalUser) -> list[Measure]:
    """The cost types and outputs of `STANDARD_MEASURES` the fund does not ask for yet."""
    have = set(Measure.objects.filter(fund=fund).values_list("name", flat=True))  # retired ones too
    return [
        measure_create(fund=fund, kind=kind, name=name, acting_user=acting_user)
        for kind, name in STANDARD_MEASURES
        if name not in have
    ]


@dataclass(frozen=True)
class ReturnPreview:
    """What importing a return would do: the return as read, its period, its problems (with their
    cells) and what it says against the ledger."""

    read: ReadReturn
    period: ReportingPeriod | None
    problems: list[Problem]
    comparison: Comparison
    previous: ProviderReturn | None

    @property
    def unchanged(self) -> bool:
        return self.previous is not None and self.previous.sha256 == self.read.sha256


def return_preview(*, allocation: Allocation, file_name: str, content: bytes) -> ReturnPreview:
    """Read and check a completed return for `allocation` (reads only). ImportRefused when the file is
    not a return workbook at all."""
    read = read_return(content, file_name, expected_measures(allocation.fund_id))
    problems = list(read.problems)
    period = None
    if read.line_id is not None and read.line_id != allocation.pk:
        other = Allocation.objects.filter(pk=read.line_id).select_related("fund").first()
        said = (
            f"line {other.line_number} of {other.fund.code}" if other else "a line the ledger does not hold"
        )
        problems.insert(
            0,
            Problem(
                f"This workbook was made for {said}, not line {allocation.line_number} of "
                f"{allocation.fund.code}; "
                "import it on that line's returns page.",
                "Return",
            ),
        )
    elif read.period_id is not None:
        period = ReportingPeriod.objects.filter(pk=read.period_id, fund_id=allocation.fund_id).first()
        if period is None:
            problems.insert(
                0, Problem("The workbook names a reporting period this fund does not have.", "Return")
            )
    previous = None
    comparison = Comparison()
    if period is not None:
        previous = (
            ProviderReturn.objects.filter(allocation=allocation, period=period)
            .select_related("accepted_by")
            .first()
        )
        if previous is not None and previous.is_accepted and previous.sha256 != read.sha256:
            problems.append(
                Problem(
                    f"The return for {period.label} was accepted by {previous.accepted_by} and cannot be "
                    "replaced."
                )
            )
        comparison = compare(period, ledger_side([allocation.pk], period)[allocation.pk], read.spend_to_date)
    return ReturnPreview(read, period, problems, comparison, previous)


@dataclass(frozen=True)
class ReturnImported:
    provider_return: ProviderReturn | None  # None: the same file again, nothing changed
    underspend_entry: object = None


@_audited(reason="Provider return imported")
def provider_return_import(
    *,
    allocation: Allocation,
    file_name: str,
    content: bytes,
    acting_user: OptionalUser,
    record_underspend: Decimal | None = None,
) -> ReturnImported:
    """Import a completed return for the line, all or nothing. The same file again changes nothing; a
    corrected file replaces a return not yet accepted. With `record_underspend` (the amount the preview
    showed), the underspend is recorded as due, awaiting approval, through `underspend_due_record`."""
    # Fund before line, the order every write takes its locks in (services._base._lock_allocation); a
    # return itself changes no figure, so a fund whose MoJ return is submitted still takes returns.
    Fund.objects.select_for_update().get(pk=allocation.fund_id)
    allocation = Allocation.objects.select_for_update().select_related("fund").get(pk=allocation.pk)
    # The line's returns too, which an acceptance locks: one accepted while this import reads the
    # previous return would otherwise be overwritten, its acceptance wiped, by the save below.
    list(ProviderReturn.objects.select_for_update().filter(allocation=allocation).values_list("pk"))
    preview = return_preview(allocation=allocation, file_name=file_name, content=content)
    if preview.problems:
        raise ImportRefused(preview.problems)
    read, period = preview.read, preview.period
    if record_underspend is not None and (
        not record_underspend.is_finite() or record_underspend != preview.comparison.underspend
    ):
        raise ValidationError(
            "The underspend to record has changed since the preview (the ledger moved); look at the "
            "preview again."
        )
    if preview.unchanged:
        # The same file again changes no return; an underspend asked for is still recorded (the
        # comparison already takes off what is recorded as due, so it is never recorded twice).
        return ReturnImported(
            None, _record_underspend(allocation, period, read, file_name, record_underspend, acting_user)
        )
    provider_return = preview.previous or ProviderReturn(allocation=allocation, period=period)
    provider_return.file_name = file_name[:255]
    provider_return.sha256 = read.sha256
    provider_return.period_spend = money.gbp(read.period_total)
    provider_return.spend_to_date = money.gbp(read.spend_to_date)
    provider_return.explanation = read.explanation
    provider_return.imported_by = acting_user
    provider_return.imported_at = timezone.now()
    if provider_return.pk:
        provider_return.version += 1
    provider_return.full_clean()
    provider_return.save()
    ProviderReturnValue.objects.filter(provider_return=provider_return).delete()
    ProviderReturnValue.objects.bulk_create(
        ProviderReturnValue(provider_return=provider_return, measure_id=pk, value=value)
        for pk, value in read.values.items()
    )
    entry = _record_underspend(allocation, period, read, file_name, record_underspend, acting_user)
    return ReturnImported(provider_return, entry)


def _record_underspend(allocation, period, read, file_name, amount, acting_user):
    if not amount:
        return None
    return underspend_due_record(
        allocation=allocation,
        amount=amount,
        effective_date=period.end,
        memo=f"Underspend declared in the provider return for {period.label} ({file_name[:100]}, "
        f"SHA-256 {read.sha256[:12]})",
        acting_user=acting_user,
    )


def self_acceptance_message() -> str:
    return "You imported this return, so someone else must accept it."


@_audited(reason="Provider return accepted")
def provider_return_accept(
    *, provider_return: ProviderReturn, expected_version: int, acting_user: OptionalUser
) -> ProviderReturn:
    """An approver accepts a received return imported by someone else, as they saw it (`expected_version`)."""
    if acting_user is None or not acting_user.has_perm("grants.accept_providerreturn"):
        raise ValidationError("Only an approver can accept a provider return.")
    current = ProviderReturn.objects.select_for_update().get(pk=provider_return.pk)
    if current.is_accepted:
        raise ValidationError("This return has already been accepted.")
    if current.imported_by_id == acting_user.pk:
        raise ValidationError(self_acceptance_message())
    now = timezone.now()
    current.version = check_and_bump_version(
        ProviderReturn, current.pk, expected_version, accepted_by=acting_user, accepted_at=now
    )
    current.accepted_by, current.accepted_at = acting_user, now
    return current
