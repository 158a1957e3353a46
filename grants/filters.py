"""Filters for allocation tables: by fund, organisation, thematic area, category, amount and text."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils.text import slugify

from grants.models import Fund, FundingCategory, ThematicArea

HALF_PENNY = Decimal("0.005")

# How a download's file name says what was filtered: each filter in use as "<word>-<value>".
NAME_WORDS = {
    "fund": "fund",
    "organisation": "organisation",
    "thematic_area": "area",
    "funding_category": "category",
    "amount_min": "from",
    "amount_max": "to",
    "q": "search",
}
# A typed value is cut to this many characters in a file name.
NAME_PART_LENGTH = 40


class AllocationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    fund = django_filters.ModelChoiceFilter(
        queryset=Fund.objects.order_by("code"), to_field_name="code", empty_label="All funds"
    )
    # Text, not a list of every organisation: a region has thousands, and a <select> of them all
    # was rendered into every page of the table.
    organisation = django_filters.CharFilter(method="organisation_named", label="Organisation")
    thematic_area = django_filters.ModelChoiceFilter(
        queryset=ThematicArea.objects.all(), to_field_name="code", empty_label="All thematic areas"
    )
    # Said of the lines' stored figures (the database keeps them equal to the line's), whose index
    # serves a fund's lines in a category sorted by amount.
    funding_category = django_filters.ModelChoiceFilter(
        queryset=FundingCategory.objects.all(),
        field_name="figures__funding_category",
        label="Funding category",
        to_field_name="code",
        empty_label="All categories",
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
            # On a fund's own page: no fund filter.
            del self.filters["fund"]

    @property
    def group_scope(self) -> dict | None:
        """The filter as lookups on the stored group figures (`GroupFigures`) when it narrows only by
        fund, funding category and thematic area, so that its lines' count and total can be read
        from a few group rows; None when it narrows by anything else."""
        data = self.form.cleaned_data
        if self.filters_amounts or any(data.get(name, "").strip() for name in ("q", "organisation")):
            return None
        return {
            name: data[name]
            for name in ("fund", "funding_category", "thematic_area")
            if data.get(name) is not None
        }

    def name_parts(self) -> list[str]:
        """What the filter selects, as parts of a file name ("category-da-pcc-commissioned",
        "from-100.00"), in the form's order; none when it selects every line, and "filter-not-valid"
        when it is not valid (its download holds no lines)."""
        if not self.is_valid():
            return ["filter-not-valid"]
        parts = []
        for name, value in self.form.cleaned_data.items():
            if value is None or value == "" or name not in NAME_WORDS:
                continue
            if isinstance(value, Decimal):
                text = format(value, "f")
            else:
                text = slugify(getattr(value, "code", value))[:NAME_PART_LENGTH].strip("-")
            if text:
                parts.append(f"{NAME_WORDS[name]}-{text}")
        return parts

    @property
    def filters_amounts(self) -> bool:
        """Whether the amount range is in use: it filters on the summed amounts, not on the lines."""
        data = self.form.cleaned_data
        return data.get("amount_min") is not None or data.get("amount_max") is not None

    # Amounts are whole pence, but SQLite sums them as floats (0.10 + 0.20 is 0.30000000000000004):
    # half a penny of slack makes the range include its ends on both databases.
    def amount_from(self, queryset, name, value):
        return queryset.filter(awarded__gte=value - HALF_PENNY)

    def amount_to(self, queryset, name, value):
        return queryset.filter(awarded__lte=value + HALF_PENNY)

    def organisation_named(self, queryset, name, value):
        """Lines of organisations whose name or short name contains the text (ignoring case); a
        number is an organisation's id, as links to a filtered table give it."""
        value = value.strip()
        if not value:
            return queryset
        # ASCII digits only ("²" passes str.isdigit(), and int() refuses it), and no longer than an
        # id can be (SQLite cannot be asked about a number past 2**63 - 1): otherwise a 500.
        if value.isascii() and value.isdigit():
            number = int(value)
            return queryset.filter(organisation_id=number) if number < 2**63 else queryset.none()
        return queryset.filter(
            Q(organisation__name__icontains=value) | Q(organisation__short_name__icontains=value)
        )

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
