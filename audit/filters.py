"""The history pages' filters: by table (what changed), by who changed it, and by the day it changed."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.models import AuditEvent
from audit.tables import AUDITED_TABLES


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day`, in the office's time zone (the pages' dates are local)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class HistoryFilter(django_filters.FilterSet):
    table = django_filters.ChoiceFilter(
        field_name="table_name",
        label="What",
        empty_label="Everything",
        # The tables whose rows belong to a fund: what a fund's or a line's history can hold.
        choices=sorted(
            ((table, spec.label) for table, spec in AUDITED_TABLES.items() if spec.fund_column),
            key=lambda choice: choice[1],
        ),
    )
    user = django_filters.ModelChoiceFilter(
        label="Who",
        empty_label="Anyone",
        queryset=get_user_model().objects.order_by("username"),
        method="by_user",
    )
    since = django_filters.DateFilter(
        label="From (date)",
        method="from_day",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        label="To (date)",
        method="to_day",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def by_user(self, queryset, name, value):
        return queryset.filter(actor_id=value.pk)

    def from_day(self, queryset, name, value):
        return queryset.filter(occurred_at__gte=_start_of(value))

    def to_day(self, queryset, name, value):
        # The whole of the last day: before the next one begins. The last day a date can hold
        # (31 December 9999) has no next one: everything is before its end.
        if value >= datetime.date.max:
            return queryset
        return queryset.filter(occurred_at__lt=_start_of(value + datetime.timedelta(days=1)))
