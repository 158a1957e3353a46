"""Page-level reads, composed from the models' QuerySet methods."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from djmoney.money import Money

from grants import money
from grants.models import Allocation, Fund
from grants.reconciliation import FundReconciliation, Status, reconcile, status_for


@dataclass(frozen=True)
class FundSummary:
    fund: Fund
    ledger_total: Money

    @property
    def variance(self) -> Money:
        return money.difference(self.ledger_total, self.fund.control_total)

    @property
    def status(self) -> Status:
        return status_for(self.variance)


def fund_summaries() -> list[FundSummary]:
    """Every fund with its ledger total, in one query."""
    funds = Fund.objects.select_related("funder").with_ledger_total()
    return [FundSummary(fund=fund, ledger_total=money.from_aggregate(fund.ledger_total)) for fund in funds]


@dataclass(frozen=True)
class FundPage:
    fund: Fund
    reconciliation: FundReconciliation
    allocations: QuerySet[Allocation]


def fund_page(fund: Fund) -> FundPage:
    """The fund's facts, its reconciliation and its lines with their amounts."""
    allocations = (
        Allocation.objects.for_fund(fund)
        .select_related("organisation", "thematic_area", "funding_category")
        .with_awarded()
        .order_by("line_number")
    )
    return FundPage(fund=fund, reconciliation=reconcile(fund), allocations=allocations)
