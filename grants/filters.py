"""Filters for allocation tables: by fund, organisation, thematic area, category, amount and text."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q

from grants.models import Fund, FundingCategory, Organisation, ThematicArea

HALF_PENNY = Decimal("0.005")


class AllocationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    fund = django_filters.ModelChoiceFilter(
        queryset=Fund.objects.order_by("code"), to_field_name="code", empty_label="All funds"
    )
    organisation = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.order_by("name"), empty_label="All organisations"
    )
    thematic_area = django_filters.ModelChoiceFilter(
        queryset=ThematicArea.objects.all(), to_field_name="code", empty_label="All thematic areas"
    )
    funding_category = django_filters.ModelChoiceFilter(
        queryset=FundingCategory.objects.all(), to_field_name="code", empty_label="All categories"
    )
    amount_min = django_filters.NumberFilter(
        method="amount_from",
        label="Amount from (£)",
        widget=forms.NumberInput({"step": "0.01"}),
    )
    amount_max = django_filters.NumberFilter(
        method="amount_to",
        label="Amount to (£)",
        widget=forms.NumberInput({"step": "0.01"}),
    )

    def __init__(self, *args, fund=None, **kwargs):
        super().__init__(*args, **kwargs)
        if fund is not None:
            # On a fund's own page: no fund filter, and only the organisations the fund pays.
            del self.filters["fund"]
            self.filters["organisation"].queryset = (
                Organisation.objects.filter(allocations__fund=fund).distinct().order_by("name")
            )

    # Amounts are whole pence, but SQLite sums them as floats (0.10 + 0.20 is 0.30000000000000004):
    # half a penny of slack makes the range include its ends on both databases.
    def amount_from(self, queryset, name, value):
        return queryset.filter(awarded__gte=value - HALF_PENNY)

    def amount_to(self, queryset, name, value):
        return queryset.filter(awarded__lte=value + HALF_PENNY)

    def search(self, queryset, name, value):
        words = value.split()
        for word in words:
            queryset = queryset.filter(
                Q(organisation__name__icontains=word)
                | Q(organisation__short_name__icontains=word)
                | Q(service__icontains=word)
                | Q(source_text__icontains=word)
            )
        return queryset
