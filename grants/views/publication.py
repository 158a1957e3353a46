"""The statutory grants register (a page and its CSV/xlsx per fund, per financial year with
`?year=2023-24`), the fund's publication facts form, and the fund's public page: login-free and
read-only, shown only when the office has switched it on, with approved amounts only."""

from __future__ import annotations

import io

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views.generic import TemplateView, View

from grants import selectors
from grants.exports.register import write_register_csv, write_register_xlsx
from grants.exports.three_sixty_giving_data import (
    beneficiary_location,
    data_source,
    fund_has_own_beneficiary_location,
)
from grants.models import Fund
from grants.publication_forms import FundPublicationForm, LineRegisterTextForm
from grants.views._base import LineMixin, ReadView, ServiceFormView
from grants.years import parse_year

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def chosen_year(request):
    """The financial year `?year=` names, None for the whole fund, or the problem in words."""
    text = request.GET.get("year", "").strip()
    if not text:
        return None, ""
    try:
        return parse_year(text), ""
    except ValueError as error:
        return None, f"{error}. Showing the whole fund instead."


class FundRegisterView(ReadView, TemplateView):
    template_name = "grants/fund_register.html"

    def get_context_data(self, **kwargs):
        fund = get_object_or_404(Fund, code=self.kwargs["code"])
        year, problem = chosen_year(self.request)
        rows = selectors.grants_register(fund, year)
        return super().get_context_data(
            fund=fund,
            year=year,
            year_problem=problem,
            rows=rows,
            gaps=selectors.register_gaps(rows),
            columns=[title for title, _ in selectors.REGISTER_COLUMNS],
            **kwargs,
        )


class FundRegisterDownloadView(ReadView, View):
    def get(self, request, code, file_format):
        if file_format not in FORMATS:
            raise Http404("No such format")
        fund = get_object_or_404(Fund, code=code)
        year, problem = chosen_year(request)
        if problem:
            # A mistyped year is not the whole fund: the register page names the problem.
            query = urlencode({"year": request.GET["year"]})
            return redirect(f"{reverse('grants:fund_register', args=[fund.code])}?{query}")
        rows = selectors.grants_register(fund, year)
        name = f"grants-register_{fund.code}{f'_{year.label}' if year else ''}.{file_format}"
        title = f"Grants register: {fund.name}{f', {year.label}' if year else ''}"
        if file_format == "csv":
            text = io.StringIO()
            write_register_csv(rows, text)
            body = text.getvalue().encode("utf-8")
        else:
            output = io.BytesIO()
            write_register_xlsx(rows, output, title=title)
            body = output.getvalue()
        response = HttpResponse(body, content_type=FORMATS[file_format])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class FundPublicationView(ServiceFormView):
    """A fund's publication facts: one finance officer's word, kept in the fund's history."""

    permission_required = "grants.change_fund"
    form_class = FundPublicationForm
    template_name = "grants/fund_publication.html"
    success_message = "Publication facts saved."

    def dispatch(self, request, *args, **kwargs):
        self.fund = get_object_or_404(Fund, code=kwargs["code"])
        # What the open data says now, read before a refused form's values touch the fund: its own
        # place, or the office's police force area from settings.
        self.location = beneficiary_location(self.fund)
        self.own_location = fund_has_own_beneficiary_location(self.fund)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "fund": self.fund}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            fund=self.fund, location=self.location, own_location=self.own_location, **kwargs
        )

    def get_success_message(self):
        return self.success_message

    def get_success_url(self):
        return reverse("grants:fund_register", args=[self.fund.code])


@method_decorator(login_not_required, name="dispatch")
class PublicFundView(TemplateView):
    """What the office publishes of a fund, for anyone: 404 unless the fund is switched on."""

    template_name = "grants/public_fund.html"

    def get_context_data(self, **kwargs):
        fund = get_object_or_404(Fund, code=self.kwargs["code"], is_published=True)
        rows = selectors.grants_register(fund)
        return super().get_context_data(
            fund=fund,
            rows=rows,
            source=data_source(fund),
            columns=[title for title, _ in selectors.REGISTER_COLUMNS],
            **kwargs,
        )


class LineRegisterTextView(LineMixin, ServiceFormView):
    """What the register says of one line; allowed while the fund's return is submitted."""

    permission_required = "grants.change_allocation"
    form_class = LineRegisterTextForm
    template_name = "grants/line_register_text.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "allocation": self.allocation}

    def get_context_data(self, **kwargs):
        return super().get_context_data(allocation=self.allocation, **kwargs)

    def get_success_message(self):
        return f"Line {self.allocation.line_number}: register text saved."

    def get_success_url(self):
        return reverse("grants:fund_register", args=[self.allocation.fund.code])
