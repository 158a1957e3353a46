"""Carrying money forward from one financial year to the next, with the funder's agreement: a line's
amount (`carry_forward_line`) or the fund's control total (`carry_forward_fund`).

A carry-forward is a pair of entries recorded together: the out leg takes the amount out of year Y
on its last day (31 March), the in leg puts it into Y+1 on its first (1 April), pointing at the out
leg (`carried_from`). The pair is approved, rejected or withdrawn together (`decisions_take`, and the
database's triggers, grants/triggers.py). Neither leg is reversed: while pending, a mistaken
carry-forward is withdrawn or rejected; once approved it stands.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from djmoney.money import Money

from grants import money
from grants.models import Allocation, Fund, FundYear, LedgerEntry
from grants.reconciliation.years import entry_year
from grants.services._base import OptionalUser, _as_money, _audited, _lock_allocation, _lock_open_fund
from grants.services.entries import _record_entry
from grants.services.limits import _COUNTING, _refuse_if_limits_broken, _safe_sum
from grants.years import FinancialYear, start_year_of, years_between

CARRIED_FORWARD = LedgerEntry.Kind.CARRIED_FORWARD


def _checked(amount, reference: str, from_year) -> tuple[Money, str, FinancialYear]:
    value = _as_money(amount, "amount")
    problems = {}
    if value.amount <= 0:
        problems["amount"] = "The amount to carry forward must be more than £0.00."
    if not reference.strip():
        problems["reference"] = "Give the reference of the funder's agreement to carry forward."
    if not isinstance(from_year, FinancialYear):
        problems["from_year"] = "Say which financial year the money is carried forward from, as in 2023-24."
    if problems:
        raise ValidationError(problems)
    return value, reference.strip(), from_year


def _profile(fund: Fund) -> dict[int, Money]:
    return {
        year: money.from_aggregate(amount)
        for year, amount in FundYear.objects.filter(fund=fund).values_list("year", "control_total")
    }


def _refuse_if_next_year_outside(fund: Fund, profile: dict, from_year: FinancialYear) -> None:
    to_year = from_year.next()
    if profile:
        if to_year.start_year not in profile:
            raise ValidationError(
                {
                    "from_year": f"{to_year.label} is not in the fund's profile, so nothing can be "
                    "carried into it."
                }
            )
    elif to_year not in years_between(fund.spend_start, fund.spend_end):
        raise ValidationError(
            {
                "from_year": f"{to_year.label} is outside the fund's spend period, so nothing can be carried "
                "into it."
            }
        )


def _year_sum(entries, year: FinancialYear, kinds: list[str]) -> Money:
    """Approved entries of `kinds` counting in `year`, with those awaiting approval that reduce it."""
    total = (
        entries.annotate(counted_year=entry_year())
        .filter(counted_year=year.start_year)
        .aggregate(total=_safe_sum(kinds, frees_when="gt"))["total"]
    )
    return money.from_aggregate(total)


def _record_pair(fund, allocation, value, reference, memo, from_year, acting_user) -> LedgerEntry:
    """The out leg and the in leg; returns the in leg (its `carried_from` is the out leg)."""
    memo = memo.strip() or f"Carried forward from {from_year.label} to {from_year.next().label}"
    out_leg = _record_entry(
        fund=fund,
        allocation=allocation,
        kind=CARRIED_FORWARD,
        amount=-value,
        effective_date=from_year.end,
        reference=reference,
        memo=memo,
        acting_user=acting_user,
    )
    in_leg = LedgerEntry(
        fund=fund,
        allocation=allocation,
        kind=CARRIED_FORWARD,
        amount=value,
        effective_date=from_year.next().start,
        reference=reference,
        carried_from=out_leg,
        memo=memo,
        recorded_by=out_leg.recorded_by,
    )
    in_leg.full_clean()
    in_leg.save()
    return in_leg


@_audited(reason_from="memo")
def carry_forward_line(
    *,
    allocation: Allocation,
    from_year: FinancialYear,
    amount: Money | Decimal | str,
    reference: str,
    acting_user: OptionalUser,
    memo: str = "",
) -> LedgerEntry:
    """Carry part of a line's amount for `from_year` into the next year, as the funder agreed: a pair
    of entries awaiting approval (returns the in leg). The line's total is unchanged once approved;
    until then the out leg reduces its award at once and the in leg counts only once approved.

    Refused for more than the line's approved amount for the year (less reductions awaiting
    approval), into a year outside the fund's profile (or its spend period, without one), on a fund
    whose return is submitted, and where the pending out leg would leave the line's payments above
    its award."""
    value, reference, from_year = _checked(amount, reference, from_year)
    allocation = _lock_allocation(allocation)
    fund = allocation.fund
    _refuse_if_next_year_outside(fund, _profile(fund), from_year)
    available = _year_sum(
        LedgerEntry.objects.filter(allocation=allocation), from_year, LedgerEntry.Kind.awarded_kinds()
    )
    if value.amount > available.amount:
        raise ValidationError(
            {
                "amount": f"{money.format_gbp(value)} is more than line {allocation.line_number}'s approved "
                f"amount for {from_year.label}, {money.format_gbp(max(available, money.zero()))}{_COUNTING}"
            }
        )
    in_leg = _record_pair(fund, allocation, value, reference, memo, from_year, acting_user)
    _refuse_if_limits_broken([allocation.pk], "This carry-forward cannot be recorded: ")
    return in_leg


def fund_carried_by_year(fund: Fund, pending_reductions: bool = False) -> dict[int, Money]:
    """The fund's approved carry-forwards of its control total, summed by the year they are dated in
    (into a year positive, out of it negative); with `pending_reductions`, out legs awaiting
    approval too. One query."""
    counted = Q(approved_at__isnull=False)
    if pending_reductions:
        counted |= Q(approved_at__isnull=True, rejected_at__isnull=True, amount__lt=0)
    rows = (
        LedgerEntry.objects.filter(fund=fund, allocation__isnull=True, kind=CARRIED_FORWARD)
        .filter(counted)
        .annotate(year=start_year_of("effective_date"))
        .order_by()
        .values("year")
        .annotate(total=Sum("amount"))
        .values_list("year", "total")
    )
    return {year: money.from_aggregate(total) for year, total in rows}


def control_totals_in_effect(fund: Fund, pending_reductions: bool = False) -> dict[int, Money]:
    """Each year of the fund's profile: its `FundYear` figure plus the fund's approved carry-forwards
    dated in it (and, with `pending_reductions`, less out legs awaiting approval). Two
    queries; empty for a fund without a profile."""
    profile = _profile(fund)
    if not profile:
        return {}
    carried = fund_carried_by_year(fund, pending_reductions)
    return {year: money.total([figure, carried.get(year, money.zero())]) for year, figure in profile.items()}


@_audited(reason_from="memo")
def carry_forward_fund(
    *,
    fund: Fund,
    from_year: FinancialYear,
    amount: Money | Decimal | str,
    reference: str,
    acting_user: OptionalUser,
    memo: str = "",
) -> LedgerEntry:
    """Carry part of the fund's control total for `from_year` into the next year, as the funder
    agreed: a pair of entries on the fund awaiting approval (returns the in leg). The fund's total is
    unchanged; once approved, each year's control total in effect is its profile figure plus the
    carry-forwards dated in it.

    Refused for a fund without a profile, into a year outside it, for more than the year's control
    total in effect (out legs awaiting approval counted at once), and on a submitted fund."""
    value, reference, from_year = _checked(amount, reference, from_year)
    fund = _lock_open_fund(fund.pk)
    profile = _profile(fund)
    if not profile:
        raise ValidationError(
            "This fund has one control total for its whole spend period and no profile by year, so there "
            "is no year's control total to carry forward. Set its profile first."
        )
    _refuse_if_next_year_outside(fund, profile, from_year)
    in_effect = control_totals_in_effect(fund, pending_reductions=True).get(
        from_year.start_year, money.zero()
    )
    if value.amount > in_effect.amount:
        raise ValidationError(
            {
                "amount": f"{money.format_gbp(value)} is more than the fund's control total for "
                f"{from_year.label}, {money.format_gbp(max(in_effect, money.zero()))} (its profile's "
                "figure with the carry-forwards approved, less those awaiting approval)."
            }
        )
    return _record_pair(fund, None, value, reference, memo, from_year, acting_user)
