"""Reads for the organisation pages: one provider's lines across funds, and every provider's totals."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.core.exceptions import ValidationError
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
    open_data_gaps: list[str] = dataclasses.field(default_factory=list)

    @property
    def total(self) -> Money:
        return money.total(row.amount for row in self.by_fund)

    @property
    def line_count(self) -> int:
        return sum(row.line_count for row in self.by_fund)


def organisation_page(organisation: Organisation) -> OrganisationPage:
    return OrganisationPage(
        organisation=organisation,
        open_data_gaps=open_data_gaps(organisation),
        lines=allocation_rows().filter(organisation=organisation),
        by_fund=subtotals(
            Allocation.objects.filter(organisation=organisation), "fund__code", "fund__name", ["fund__code"]
        ),
    )


def open_data_gaps(organisation: Organisation) -> list[str]:
    """What 360Giving's Data Quality Tool would miss about this organisation as a recipient, in a
    finance officer's words; empty when it has all the tool asks for."""
    gaps = []
    # Numbers the ledger accepted before it checked the forms 360Giving's tool reads (an 8-digit
    # charity number is left as it was by migration 0033): published as they are, the tool flags them.
    for field in ("charity_number", "company_number"):
        value = getattr(organisation, field)
        try:
            for validator in Organisation._meta.get_field(field).validators:
                if value:
                    validator(value)
        except ValidationError as error:
            label = Organisation._meta.get_field(field).verbose_name
            gaps.append(f"Its {label} {value} is not in a form open data accepts: {' '.join(error.messages)}")
    numbers = (
        organisation.charity_number,
        organisation.ni_charity_number,
        organisation.company_number,
        organisation.org_identifier,
    )
    if not any(numbers):
        gaps.append(
            "A registered number: its charity number, Northern Ireland charity number, company number "
            "or org-id (without one, open data names it by a made-up identifier)."
        )
    elif not (organisation.charity_number or organisation.ni_charity_number or organisation.company_number):
        gaps.append("A charity or company number beside its org-id, for those who match grants to registers.")
    if not (organisation.postcode or organisation.location_code):
        gaps.append("Its postcode (or the ONS code of where it is), so open data can say where it is based.")
    return gaps


def organisation_summaries() -> QuerySet[Organisation]:
    """Every organisation with its number of lines and amount across funds, in one query."""
    return Organisation.objects.annotate(
        line_count=counted_line_count("allocations__id", "allocations__entries"),
        awarded=awarded_sum("allocations__entries"),
    ).order_by("name")
