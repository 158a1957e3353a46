"""Reads for a fund's financial years: its reconciliation by year, and the year a page was asked
to show (`?year=2023-24`)."""

from __future__ import annotations

from dataclasses import dataclass

from grants.models import Fund, LedgerEntry
from grants.reconciliation.cash import CashPosition, cash_total
from grants.reconciliation.years import (
    NotAYearOfTheFund,
    YearReconciliation,
    reconcile_by_year,
    year_reconciliation,
)
from grants.selectors.approvals import fund_own_entries
from grants.years import parse_year


@dataclass(frozen=True)
class FundYears:
    by_year: list[YearReconciliation]
    total: CashPosition
    # The entries on the fund itself (money received from and returned to the funder), by date.
    own_entries: list[LedgerEntry]
    chosen: YearReconciliation | None = None
    # Why the year asked for is not shown, in words; empty when it is, or when none was asked for.
    problem: str = ""


def fund_years(fund: Fund, year_text: str | None = None) -> FundYears:
    """The fund's reconciliation for each of its financial years (five queries whatever its size)
    with its cash in total and the entries on the fund itself (six queries),
    and the one `year_text` names; a text that is not a year, or not one of the fund's, is said in
    `problem` and the whole fund shown instead."""
    by_year = reconcile_by_year(fund)
    total = cash_total(fund, by_year)
    own = list(fund_own_entries(fund))
    if not year_text:
        return FundYears(by_year, total, own)
    try:
        chosen = year_reconciliation(by_year, parse_year(year_text), fund)
    except (ValueError, NotAYearOfTheFund) as error:
        return FundYears(by_year, total, own, problem=f"{error}. Showing the whole fund instead.")
    return FundYears(by_year, total, own, chosen)
