"""The ledger's pages for signed-in staff. Reads come from selectors; there are no writes here yet."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404
from django.views import View
from django.views.generic import TemplateView

from grants import selectors
from grants.exports.downloads import moj_return_response
from grants.models import Fund


class FundListView(LoginRequiredMixin, TemplateView):
    template_name = "grants/fund_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(summaries=selectors.fund_summaries(), **kwargs)


class FundDetailView(LoginRequiredMixin, TemplateView):
    template_name = "grants/fund_detail.html"

    def get_context_data(self, **kwargs):
        fund = get_object_or_404(Fund.objects.select_related("funder"), code=self.kwargs["code"])
        return super().get_context_data(page=selectors.fund_page(fund), **kwargs)


class FundMojReturnView(LoginRequiredMixin, View):
    """Streams the fund's MoJ return workbook: the same bytes `manage.py export_moj_return` writes."""

    def get(self, request, code):
        fund = get_object_or_404(Fund.objects.select_related("funder"), code=code)
        return moj_return_response(fund, user=request.user)
