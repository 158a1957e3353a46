"""What the pages share: the read-only and service-form base views, the allocation table's
filtering and footer, the one-line lookup, and the safe `next` redirect."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView
from django_tables2 import RequestConfig
from djmoney.money import Money

from grants import money, selectors
from grants.exports.downloads import allocations_csv_response
from grants.filters import AllocationFilter
from grants.forms import apply_service_errors
from grants.models import Allocation
from grants.tables import AllocationTable

PER_PAGE = 50


class CountedPaginator(Paginator):
    """A paginator told the number of lines instead of counting them itself (with the table's
    summed amounts, the count would join and group every entry of every line)."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


class ReadView(LoginRequiredMixin, PermissionRequiredMixin):
    """A page that only reads. Every role can read (README, "Roles"); a login without a role gets 403."""

    permission_required = ("grants.view_fund", "grants.view_allocation")


class AllocationTableMixin:
    """A filtered, sortable, paginated allocation table with a database footer total and CSV export."""

    def filtered_rows(self):
        """The filter form and the lines it selects: none at all when the filter is not valid, so a
        mistyped amount never shows (or exports) every line as if it matched."""
        filterset = AllocationFilter(self.request.GET, queryset=self.lines(), fund=self.table_fund())
        return filterset, filterset.qs if filterset.is_valid() else self.lines().none()

    def allocation_table(self, *, show_fund=True, locked=False):
        """The table; `locked` for one fund's table whose return is in force: no line's amount is
        offered for change. Across funds, each line says whether its own fund is locked."""
        filterset, rows = self.filtered_rows()
        count, total = self.count_and_total(filterset, rows)
        can_change = self.request.user.has_perm("grants.change_allocation") and not locked
        if can_change and show_fund:
            rows = selectors.with_fund_lock(rows)
        table = AllocationTable(rows, footer_total=total, show_fund=show_fund, can_change=can_change)
        paginate = {"per_page": PER_PAGE, "paginator_class": CountedPaginator, "count": count}
        RequestConfig(self.request, paginate=paginate).configure(table)
        return filterset, table

    def count_and_total(self, filterset, rows) -> tuple[int, Money]:
        """How many lines the filter selects and their approved total, each computed once.

        Filtered by fund, category and thematic area only (or not at all), both come from the
        stored group figures in one query over a few rows. Otherwise the total is summed from the
        selected lines' stored figures, and the lines are counted without the table's joins and
        figures (but those a filter needs: the category and amounts are said of the figures)."""
        if not filterset.is_valid():
            return 0, money.zero()
        scope = filterset.group_scope
        if scope is not None:
            if self.table_fund() is not None:
                scope["fund"] = self.table_fund()
            return selectors.group_totals(**scope)
        total = selectors.allocations_total(rows)
        if filterset.filters_amounts:
            return filterset.qs.count(), total
        plain = AllocationFilter(self.request.GET, queryset=self.plain_lines(), fund=self.table_fund())
        return plain.qs.count(), total

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "csv":
            filterset, rows = self.filtered_rows()
            return allocations_csv_response(
                rows.order_by("fund__code", "line_number"),
                self.csv_filename(filterset),
                year_label=self.csv_year_label(),
            )
        return super().get(request, *args, **kwargs)

    def csv_filename(self, filterset) -> str:
        """What the download holds: the page's lines (`csv_name_parts()`), then what the filter
        selects, so that a filtered download never takes the unfiltered one's name."""
        return "_".join([*self.csv_name_parts(), *filterset.name_parts()]) + ".csv"

    def csv_year_label(self) -> str:
        """The financial year whose amounts the table shows, or "" for the lines' whole amounts."""
        return ""


class ServiceFormView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    """A form whose `save(acting_user)` calls a service; its ValidationErrors land on the form."""

    success_message = "Saved."

    def form_valid(self, form):
        try:
            self.saved = form.save(self.request.user)
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.get_success_message())
        return redirect(self.get_success_url())


class LineMixin:
    """A view of one allocation line, the `pk` of its URL."""

    @cached_property
    def allocation(self):
        return get_object_or_404(
            Allocation.objects.select_related("fund", "organisation"), pk=self.kwargs["pk"]
        )


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else ""
