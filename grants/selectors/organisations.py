"""Reads for the organisation pages: one provider's lines across funds, and every provider's totals."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from djmoney.money import Money

from grants import money
from grants.models import (
    Allocation,
    Organisation,
    awarded_sum,
    counted_line_count,
)
from grants.reconciliation import (
    Subtotal,
    subtotals,
)
from grants.selectors.funds import allocation_rows


@dataclass(frozen=True)
class OrganisationPage:
    organisation: Organisation
    lines: QuerySet[Allocation]
    by_fund: list[Subtotal]

    @property
    def total(self) -> Money:
        return money.total(row.amount for row in self.by_fund)

    @property
    def line_count(self) -> int:
        return sum(row.line_count for row in self.by_fund)


def organisation_page(organisation: Organisation) -> OrganisationPage:
    return OrganisationPage(
        organisation=organisation,
        lines=allocation_rows().filter(organisation=organisation),
        by_fund=subtotals(
            Allocation.objects.filter(organisation=organisation), "fund__code", "fund__name", ["fund__code"]
        ),
    )


def organisation_summaries() -> QuerySet[Organisation]:
    """Every organisation with its number of lines and amount across funds, in one query."""
    return Organisation.objects.annotate(
        line_count=counted_line_count("allocations__id", "allocations__entries"),
        awarded=awarded_sum("allocations__entries"),
    ).order_by("name")
