"""The fund pages: the dashboard, the fund list and page, its profile by financial year, submitting
and reopening its return, and its downloads (the MoJ return, 360Giving, a submitted workbook)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.views import View
from django.views.generic import TemplateView

from grants import charts, money, selectors, services
from grants.exports.downloads import moj_return_response, three_sixty_giving_response
from grants.exports.files import InvalidOpenData
from grants.exports.moj_return_format import XLSX_CONTENT_TYPE
from grants.exports.three_sixty_giving import FORMATS
from grants.exports.three_sixty_giving_data import ThreeSixtyGivingNotConfigured
from grants.forms import FundProfileForm, ReopenForm
from grants.models import Allocation, Fund, ReturnSubmission
from grants.selectors import returns as returns_selectors
from grants.tables import fund_summary_rows, fund_year_rows
from grants.views._base import AllocationTableMixin, ReadView, ServiceFormView
from grants.years import parse_year


class DashboardView(ReadView, TemplateView):
    """Every fund's reconciliation; with `?year=2023-24`, each fund's for that financial year."""

    template_name = "grants/dashboard.html"

    def get_context_data(self, **kwargs):
        year_text = self.request.GET.get("year", "").strip()
        kwargs.update(year_text=year_text, year_problem="", year_dashboard=None)
        kwargs["returns_overdue"] = returns_selectors.overdue_count(timezone.localdate())
        if year_text:
            try:
                year = parse_year(year_text)
            except ValueError as error:
                kwargs["year_problem"] = f"{error}. Showing every fund's whole period instead."
            else:
                by_year = selectors.dashboard_for_year(year)
                kwargs.update(year_text=year.label, year_dashboard=by_year)
                return super().get_context_data(funds=fund_year_rows(by_year), **kwargs)
        dashboard = selectors.dashboard(self.request.GET.getlist("fund"))
        due = selectors.due_instalments(timezone.localdate())
        return super().get_context_data(
            dashboard=dashboard,
            due_lists=[
                (f"Due in the next {due.days} days", due.due_soon, "instalments-due-soon"),
                ("Overdue (due date passed, not paid)", due.overdue, "instalments-overdue"),
            ],
            funds=fund_summary_rows(dashboard.summaries),
            chart=charts.category_chart(dashboard.by_category),
            **kwargs,
        )


class FundListView(ReadView, TemplateView):
    template_name = "grants/fund_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(funds=fund_summary_rows(selectors.fund_summaries()), **kwargs)


class FundDetailView(ReadView, AllocationTableMixin, TemplateView):
    """The fund's facts, reconciliation, money and allocation table; with `?year=2023-24`, that
    year's reconciliation and the year's amounts of the lines with entries in it."""

    template_name = "grants/fund_detail.html"

    @cached_property
    def fund(self):
        # Looked up only once the login check has let the request through.
        return get_object_or_404(Fund.objects.select_related("funder"), code=self.kwargs["code"])

    @cached_property
    def years(self):
        """The fund's reconciliation by year and the one `?year=` asks for; None without `year`,
        so that the page reads nothing more than it did before years."""
        year_text = self.request.GET.get("year", "").strip()
        return selectors.fund_years(self.fund, year_text, own_entries=False) if year_text else None

    @property
    def chosen_year(self):
        """The year's reconciliation the page shows, or None for the whole fund."""
        return self.years.chosen if self.years is not None else None

    def lines(self):
        if self.chosen_year is not None:
            return selectors.year_allocation_rows(self.fund, self.chosen_year.year)
        if self.request.GET.get("sort", "").lstrip("-") == "awarded":
            # Sorted by amount, the fund is said of the lines' stored figures (the database keeps it
            # equal to the line's): their (fund, category, amount, line) index gives the first page
            # in amount order instead of sorting every line. Not said of both: on PostgreSQL the
            # repeated condition made the planner expect a few hundred lines and sort them all.
            return selectors.allocation_rows().filter(figures__fund=self.fund)
        return selectors.allocation_rows().filter(fund=self.fund)

    def plain_lines(self):
        return Allocation.objects.filter(fund=self.fund)

    def table_fund(self):
        return self.fund

    def csv_name_parts(self):
        return ["allocations", self.fund.code, *filter(None, [self.csv_year_label()])]

    def csv_year_label(self):
        return self.chosen_year.year.label if self.chosen_year is not None else ""

    def count_and_total(self, filterset, rows):
        """For one year, the lines with entries in it and their approved amount in it: from the
        year's few stored group rows when the filter allows, else from the year's line figures."""
        if self.chosen_year is None:
            return super().count_and_total(filterset, rows)
        if not filterset.is_valid():
            return 0, money.zero()
        scope = filterset.group_scope
        if scope is not None:
            return selectors.group_year_totals(self.chosen_year.year, **{**scope, "fund": self.fund})
        return rows.count(), selectors.year_lines_total(rows)

    def get_context_data(self, **kwargs):
        page = selectors.fund_page(self.fund)
        filterset, table = self.allocation_table(show_fund=False, locked=page.submission_in_force is not None)
        forecast = selectors.payment_forecast(self.fund)
        return super().get_context_data(
            page=page,
            forecast=forecast,
            forecast_tables=[
                ("Payments by month", forecast.months),
                ("Payments by quarter", forecast.quarters),
            ],
            filter=filterset,
            table=table,
            chosen_year=self.chosen_year,
            year_problem=self.years.problem if self.years is not None else "",
            year_options=selectors.year_options(self.fund, page.profile, self.years),
            **kwargs,
        )


class FundYearsView(ReadView, TemplateView):
    """The fund's reconciliation for each financial year, and one year's in full (`?year=2023-24`).

    Every year at once; the fund page shows one year (`?year=`) with its lines. Both read the
    stored figures by year, a few rows per year whatever the fund's size (docs/performance.md)."""

    template_name = "grants/fund_years.html"

    def get_context_data(self, **kwargs):
        fund = get_object_or_404(Fund, code=self.kwargs["code"])
        return super().get_context_data(
            fund=fund,
            years=selectors.fund_years(fund, self.request.GET.get("year")),
            # Its return in force, if any: then the page offers nothing to record (one query).
            submission=selectors.submission_in_force(fund),
            **kwargs,
        )


class FundMojReturnView(ReadView, View):
    """Streams the fund's MoJ return workbook: the same bytes `manage.py export_moj_return` writes;
    for one year of the fund's profile with `?year=2023-24`. A year outside the profile gets a 400
    page that says why and offers the years there are."""

    def get(self, request, code):
        fund = get_object_or_404(Fund.objects.select_related("funder"), code=code)
        year_text = request.GET.get("year")
        if not year_text:
            return moj_return_response(fund, user=request.user)
        try:
            year = selectors.return_year(fund, year_text)
        except selectors.NotAReturnYear as error:
            context = {
                "fund": fund,
                "problem": str(error),
                "profile_years": [row.year for row in selectors.fund_profile(fund).years],
            }
            return render(request, "grants/moj_return_refused.html", context, status=400)
        return moj_return_response(fund, user=request.user, year=year)


class FundThreeSixtyGivingView(ReadView, View):
    """The fund's allocations as 360Giving open data, in the format the URL names."""

    def get(self, request, code, file_format):
        if file_format not in FORMATS:
            raise Http404("No such format")
        fund = get_object_or_404(Fund, code=code)
        try:
            return three_sixty_giving_response(fund, file_format)
        except (ThreeSixtyGivingNotConfigured, InvalidOpenData) as error:
            messages.error(request, str(error))
            return redirect("grants:fund_detail", code=fund.code)


class FundSubmitView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """GET: what will be submitted (approved figures only). POST: submit it and lock the fund."""

    permission_required = "grants.add_returnsubmission"
    template_name = "grants/fund_submit.html"

    @cached_property
    def fund(self):
        return get_object_or_404(Fund.objects.select_related("funder"), code=self.kwargs["code"])

    def get_context_data(self, **kwargs):
        page = selectors.fund_page(self.fund)
        variance = page.reconciliation.variance
        confirmation = services.variance_confirmation(variance) if variance.amount else ""
        return super().get_context_data(page=page, variance_confirmation=confirmation, **kwargs)

    def accepted_variance(self):
        """The variance the approver ticked to confirm, as the page showed it; None unticked (or
        a figure that is not an amount), which the service refuses for a return with a variance."""
        if not self.request.POST.get("accept_variance"):
            return None
        try:
            return money.gbp(self.request.POST.get("variance", ""))
        except (ValueError, ArithmeticError):
            return None

    def post(self, request, code):
        try:
            submission = services.fund_submit_return(
                fund=self.fund, acting_user=request.user, accepted_variance=self.accepted_variance()
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "accept_variance" in error.error_dict:
                context = self.get_context_data(variance_error=" ".join(error.messages))
                return self.render_to_response(context, status=400)
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"Version {submission.version} of the MoJ return submitted "
                f"(SHA-256 {submission.sha256[:12]}…). The fund's allocations and entries are now locked.",
            )
        return redirect("grants:fund_detail", code=self.fund.code)


class FundReopenView(ServiceFormView):
    permission_required = "grants.reopen_returnsubmission"
    form_class = ReopenForm
    template_name = "grants/fund_reopen.html"

    @cached_property
    def fund(self):
        return get_object_or_404(Fund, code=self.kwargs["code"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "fund": self.fund}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            fund=self.fund, submission=selectors.submission_in_force(self.fund), **kwargs
        )

    def get_success_message(self):
        return (
            f"Reopened: version {self.saved.version} stays on record; the next submission will be "
            f"version {self.saved.version + 1}."
        )

    def get_success_url(self):
        return reverse("grants:fund_detail", args=[self.fund.code])


class FundProfileView(ServiceFormView):
    """The funder's control total for each financial year of the fund's spend period; the fund's
    control total becomes their sum (`services.fund_profile_set`)."""

    permission_required = "grants.change_fund"
    form_class = FundProfileForm
    template_name = "grants/fund_profile.html"

    @cached_property
    def fund(self):
        return get_object_or_404(Fund.objects.select_related("funder"), code=self.kwargs["code"])

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "fund": self.fund,
            "profile": selectors.fund_profile(self.fund).years,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            fund=self.fund, submission=selectors.submission_in_force(self.fund), **kwargs
        )

    def get_success_message(self):
        total = money.total(row.control_total for row in self.saved)
        return f"Saved the fund's profile: its control total is now {money.format_gbp(total)}."

    def get_success_url(self):
        return reverse("grants:fund_detail", args=[self.fund.code])


class SubmissionDownloadView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """A submitted return, byte for byte as it was submitted."""

    permission_required = "grants.view_returnsubmission"

    def get(self, request, code, version):
        submission = get_object_or_404(ReturnSubmission, fund__code=code, version=version)
        response = HttpResponse(bytes(submission.workbook), content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition_header(True, submission.file_name)
        response["X-Content-SHA256"] = submission.sha256
        return response
