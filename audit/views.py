"""History pages: what changed in a fund or an allocation, when, by whom and why.

The rows come from the audit trail (`audit.models`), which the database writes. A page shows each
event as a finance officer would say it: "Ledger entry added", "Allocation changed: service from
Helpline to Helpline and outreach", with amounts as £1,234.56 and linked rows by name.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.paginator import Paginator
from django.db import models
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import cached_property
from django.views.generic import TemplateView
from djmoney.models.fields import CurrencyField, MoneyField

from audit.filters import HistoryFilter
from audit.models import AuditEvent
from audit.tables import AUDITED_TABLES
from grants import money
from grants.models import Allocation, Fund
from grants.models._base import Versioned

PER_PAGE = 50
NOTHING = "—"


@dataclasses.dataclass(frozen=True)
class Column:
    label: str
    field: models.Field | None = None

    @property
    def is_money(self) -> bool:
        return isinstance(self.field, MoneyField)

    @property
    def is_currency(self) -> bool:
        return isinstance(self.field, CurrencyField)

    @property
    def related_model(self):
        return self.field.related_model if self.field is not None and self.field.is_relation else None


@dataclasses.dataclass(frozen=True)
class Change:
    label: str
    before: str | None
    after: str | None


@dataclasses.dataclass(frozen=True)
class HistoryRow:
    event: AuditEvent
    what: str
    who: str
    changes: list[Change]
    allocation_url: str | None = None
    connection: str = ""


def _columns_by_table() -> dict[str, dict[str, Column]]:
    """Each audited table's columns, named as its model's fields are (in the models' order)."""
    tables = {}
    for model in apps.get_app_config("grants").get_models():
        if model._meta.db_table in AUDITED_TABLES:
            tables[model._meta.db_table] = {
                field.column: Column(str(field.verbose_name), field) for field in model._meta.concrete_fields
            }
    return tables


def _column(columns: dict[str, Column], key: str) -> Column:
    if key in columns:
        return columns[key]
    if key.endswith("_bytes"):
        return Column(f"{key.removesuffix('_bytes')} (size in bytes)")
    # A column the model no longer has.
    return Column(key.removesuffix("_id").replace("_", " "))


# Columns no reader needs in a history: the row's id (shown with the row), the edit counter of a row
# people edit in forms (`Versioned.version`; a return submission's version is its number, and shows),
# and identifiers for machines (a UUID says nothing a name does not).
_UNSHOWN = {"id"}


def _unshown(key: str, column: Column) -> bool:
    if key in _UNSHOWN or isinstance(column.field, models.UUIDField):
        return True
    field = column.field
    return key == "version" and (field is None or issubclass(field.model, Versioned))


def _holds_nothing(value, column: Column) -> bool:
    """A column an added or deleted row left empty: blank, or a flag that is off."""
    if isinstance(column.field, models.BooleanField):
        return not value
    return value in (None, "", [], {})


def _keys(event: AuditEvent, columns: dict[str, Column]) -> list[str]:
    """The columns an event shows: what changed. For an update, the changed ones; for an insert or a
    delete, the ones that hold something (a blank column or a flag left off says nothing). Never the id,
    the version, a UUID, nor a currency (always GBP)."""
    before, after = event.before or {}, event.after or {}
    present = [*columns, *sorted((before.keys() | after.keys()) - columns.keys())]
    keys = []
    for key in present:
        if key not in before and key not in after:
            continue
        column = _column(columns, key)
        if _unshown(key, column):
            continue
        if event.action == AuditEvent.Action.UPDATE:
            if before.get(key) == after.get(key):
                continue
        elif column.is_currency or _holds_nothing((after or before).get(key), column):
            continue
        keys.append(key)
    return keys


def _names(events, columns_by_table) -> dict[type[models.Model], dict]:
    """Rows that the page's events point to, fetched once per model, to name them by their str()."""
    wanted = defaultdict(set)
    for event in events:
        columns = columns_by_table.get(event.table_name, {})
        for key in _keys(event, columns):
            model = _column(columns, key).related_model
            if model is None:
                continue
            for row in (event.before, event.after):
                if row and row.get(key) is not None:
                    wanted[model].add(row[key])
    names = {}
    for model, ids in wanted.items():
        queryset = model._default_manager.all()
        if model is Allocation:
            queryset = queryset.select_related("fund", "organisation")
        names[model] = {pk: str(obj) for pk, obj in queryset.in_bulk(ids).items()}
    return names


def _show(value, column: Column, names) -> str:
    if value is None:
        return NOTHING
    if value == "":
        return "(blank)"
    if column.is_money:
        try:
            return money.format_gbp(money.from_aggregate(Decimal(str(value))))
        except (InvalidOperation, ValueError):
            return str(value)
    model = column.related_model
    if model is not None:
        return names.get(model, {}).get(value, f"{model._meta.verbose_name} {value} (deleted)")
    field = column.field
    if isinstance(field, models.DateTimeField):
        moment = parse_datetime(str(value))
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, datetime.UTC)
            return dateformat.format(timezone.localtime(moment), "j F Y, H:i")
    elif isinstance(field, models.DateField):
        day = parse_date(str(value))
        if day is not None:
            return dateformat.format(day, "j F Y")
    return str(value)


def _who(event: AuditEvent) -> str:
    if event.actor_username:
        return event.actor_username
    if event.db_user and event.db_user != "sqlite":
        return f"Outside the app (database user {event.db_user})"
    return "No user recorded (a data load or command)"


def _connection(event: AuditEvent) -> str:
    """The database login and address the change came from, which no client can choose (empty on
    SQLite, which has neither)."""
    if not event.db_session_user or event.db_session_user == "sqlite":
        return ""
    where = f"from {event.client_address}" if event.client_address else "over a local socket"
    return f"Database login {event.db_session_user}, {where}"


def history_rows(events: list[AuditEvent], *, link_allocations: bool) -> list[HistoryRow]:
    columns_by_table = _columns_by_table()
    names = _names(events, columns_by_table)
    rows = []
    for event in events:
        columns = columns_by_table.get(event.table_name, {})
        changes = []
        for key in _keys(event, columns):
            column = _column(columns, key)
            before = None if event.before is None else _show(event.before.get(key), column, names)
            after = None if event.after is None else _show(event.after.get(key), column, names)
            changes.append(Change(column.label[:1].upper() + column.label[1:], before, after))
        spec = AUDITED_TABLES.get(event.table_name)
        rows.append(
            HistoryRow(
                event=event,
                what=spec.label if spec else event.table_name,
                who=_who(event),
                connection=_connection(event),
                changes=changes,
                allocation_url=(
                    reverse("grants:allocation_history", args=[event.allocation_id])
                    if link_allocations and event.allocation_id
                    else None
                ),
            )
        )
    return rows


class HistoryView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """A paginated list of audit events, newest first, filtered by what changed, who changed it and
    when (`HistoryFilter`). Subclasses say whose."""

    template_name = "audit/history.html"
    link_allocations = False

    def events(self):
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        filtered = HistoryFilter(self.request.GET or None, queryset=self.events())
        # A filter that cannot be read (a date that is not one) shows nothing, and says why beside its
        # field, rather than every change under a heading that looks filtered.
        if not filtered.is_bound:
            events = self.events()
        elif filtered.is_valid():
            events = filtered.qs
        else:
            events = self.events().none()
        page = Paginator(events.order_by("-occurred_at", "-id"), PER_PAGE).get_page(
            self.request.GET.get("page")
        )
        rows = history_rows(list(page.object_list), link_allocations=self.link_allocations)
        # The filters in use, kept by the links to other pages.
        kept = self.request.GET.copy()
        kept.pop("page", None)
        return super().get_context_data(
            page_obj=page, rows=rows, filter=filtered, filter_query=kept.urlencode(), **kwargs
        )


class FundHistoryView(HistoryView):
    """The fund, its control-total revisions, budgets, allocations, entries and submitted returns."""

    permission_required = "grants.view_fund"
    link_allocations = True

    @cached_property
    def fund(self):
        return get_object_or_404(Fund, code=self.kwargs["code"])

    def events(self):
        return AuditEvent.objects.filter(fund_id=self.fund.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            subject=self.fund.name,
            back_url=reverse("grants:fund_detail", args=[self.fund.code]),
            back_label=f"Back to {self.fund.name}",
            **kwargs,
        )


class AllocationHistoryView(HistoryView):
    """The allocation and its ledger entries."""

    permission_required = "grants.view_allocation"

    @cached_property
    def allocation(self):
        return get_object_or_404(
            Allocation.objects.select_related("fund", "organisation"), pk=self.kwargs["pk"]
        )

    def events(self):
        return AuditEvent.objects.filter(allocation_id=self.allocation.pk)

    def get_context_data(self, **kwargs):
        fund = self.allocation.fund
        return super().get_context_data(
            subject=str(self.allocation),
            back_url=reverse("grants:fund_detail", args=[fund.code]),
            back_label=f"Back to {fund.name}",
            **kwargs,
        )
