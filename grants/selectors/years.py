"""Reads for a fund's financial years: its reconciliation by year, and the year a page was asked
to show (`?year=2023-24`)."""

from __future__ import annotations

from dataclasses import dataclass

from grants.models import Fund
from grants.reconciliation.years import (
    NotAYearOfTheFund,
    YearReconciliation,
    reconcile_by_year,
    year_reconciliation,
)
from grants.selectors.profiles import FundProfile
from grants.years import FinancialYear, parse_year, years_between


@dataclass(frozen=True)
class FundYears:
    by_year: list[YearReconciliation]
    chosen: YearReconciliation | None = None
    # Why the year asked for is not shown, in words; empty when it is, or when none was asked for.
    problem: str = ""


def fund_years(fund: Fund, year_text: str | None = None) -> FundYears:
    """The fund's reconciliation for each of its financial years (four queries whatever its size),
    and the one `year_text` names; a text that is not a year, or not one of the fund's, is said in
    `problem` and the whole fund shown instead."""
    by_year = reconcile_by_year(fund)
    if not year_text:
        return FundYears(by_year)
    try:
        chosen = year_reconciliation(by_year, parse_year(year_text), fund)
    except (ValueError, NotAYearOfTheFund) as error:
        return FundYears(by_year, problem=f"{error}. Showing the whole fund instead.")
    return FundYears(by_year, chosen)


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
