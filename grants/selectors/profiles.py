"""Reads for a fund's profile by financial year: its profile page and the table on the fund page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from djmoney.money import Money

from grants import money, years
from grants.models import ControlTotalRevision, Fund, FundYear


@dataclass(frozen=True)
class ProfileYear:
    year: years.FinancialYear
    control_total: Money  # the funder's figure for the year
    revision_count: int  # changes to the figure kept (the first figure counts as one)


@dataclass(frozen=True)
class FundProfile:
    """The fund's years in order and its control total, their sum; no years for a fund without a
    profile (one figure, as the seed fund has)."""

    years: list[ProfileYear]
    total: Money

    def __bool__(self) -> bool:
        return bool(self.years)


def fund_profile(fund: Fund) -> FundProfile:
    """The fund's profile, each year with the number of its revisions, in one query."""
    revisions = (
        ControlTotalRevision.objects.filter(fund=OuterRef("fund"), year=OuterRef("year"))
        .order_by()
        .values("fund")
        .annotate(count=Count("pk"))
        .values("count")
    )
    rows = (
        FundYear.objects.filter(fund=fund)
        .order_by("year")
        .annotate(revision_count=Coalesce(Subquery(revisions), Value(0), output_field=IntegerField()))
        .values_list("year", "control_total", "revision_count")
    )
    return FundProfile(
        years=[
            ProfileYear(years.FinancialYear(year), money.from_aggregate(amount), count)
            for year, amount, count in rows
        ],
        total=money.from_aggregate(fund.control_total.amount),
    )
