"""Reads for a fund's financial years: its reconciliation by year, and the year a page was asked
to show (`?year=2023-24`)."""

from __future__ import annotations

from dataclasses import dataclass

from grants.models import Fund, FundYear, LedgerEntry
from grants.reconciliation.cash import CashPosition, cash_total
from grants.reconciliation.outturn import FundOutturn, fund_outturn
from grants.reconciliation.years import (
    NotAYearOfTheFund,
    YearReconciliation,
    reconcile_by_year,
    year_reconciliation,
)
from grants.selectors.approvals import fund_own_entries
from grants.selectors.profiles import FundProfile
from grants.years import FinancialYear, parse_year, years_between


class NotAReturnYear(ValueError):
    """A year the fund has no return for, in words."""


def return_year(fund: Fund, year_text: str) -> FinancialYear:
    """The financial year `year_text` names, if it is one of the fund's profile (one query): a fund's
    return for one year shows that year's control total, which only its profile has."""
    try:
        year = parse_year(year_text)
    except ValueError as error:
        raise NotAReturnYear(f"year: {error}.") from error
    profile = [
        FinancialYear(start)
        for start in FundYear.objects.filter(fund=fund).order_by("year").values_list("year", flat=True)
    ]
    if not profile:
        raise NotAReturnYear(
            f"year: {fund.code} has no profile by financial year, only one control total for its whole "
            "spend period, so its return is for the whole fund; leave the year out."
        )
    if year not in profile:
        labels = [each.label for each in profile]
        listed = ", ".join(labels[:-1]) + f" and {labels[-1]}" if len(labels) > 1 else labels[0]
        raise NotAReturnYear(
            f"year: {year.label} is not in {fund.code}'s profile, so the funder awarded nothing for it; "
            f"its years are {listed}."
        )
    return year


@dataclass(frozen=True)
class FundYears:
    by_year: list[YearReconciliation]
    total: CashPosition
    # The entries on the fund itself (money received from and returned to the funder), by date.
    own_entries: list[LedgerEntry]
    chosen: YearReconciliation | None = None
    # Why the year asked for is not shown, in words; empty when it is, or when none was asked for.
    problem: str = ""
    # The fund's outturn, from the same figures (no more queries).
    outturn: FundOutturn | None = None


def fund_years(fund: Fund, year_text: str | None = None, *, own_entries: bool = True) -> FundYears:
    """The fund's reconciliation, cash and outturn for each of its financial years and in total, and
    (unless `own_entries` is false, as on the fund page, which does not list them) the entries on the
    fund itself: six queries whatever its size. Also the year `year_text` names; a text that is not a
    year, or not one of the fund's, is said in `problem` and the whole fund shown instead."""
    by_year = reconcile_by_year(fund)
    total = cash_total(fund, by_year)
    own = list(fund_own_entries(fund)) if own_entries else []
    outturn = fund_outturn(by_year, fund.control_total, fund.spend_start, fund.spend_end)
    if not year_text:
        return FundYears(by_year, total, own, outturn=outturn)
    try:
        chosen = year_reconciliation(by_year, parse_year(year_text), fund)
    except (ValueError, NotAYearOfTheFund) as error:
        problem = f"{error}. Showing the whole fund instead."
        return FundYears(by_year, total, own, problem=problem, outturn=outturn)
    return FundYears(by_year, total, own, chosen, outturn=outturn)


def year_options(
    fund: Fund, profile: FundProfile, fund_years: FundYears | None = None
) -> list[FinancialYear]:
    """The years a fund page's year selector lists: every year of the fund's reconciliation by year
    when it was read, else those of its spend period and profile (no query more: the page reads its
    profile anyway)."""
    if fund_years is not None:
        return [reconciliation.year for reconciliation in fund_years.by_year]
    years = set(years_between(fund.spend_start, fund.spend_end))
    years.update(row.year for row in profile.years)
    return sorted(years)
