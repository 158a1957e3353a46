"""The ledger's pages for signed-in staff. Reads come from selectors; there are no writes here yet."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from grants import selectors
from grants.exports.downloads import moj_return_response, three_sixty_giving_response
from grants.exports.three_sixty_giving import FORMATS
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


class FundThreeSixtyGivingView(LoginRequiredMixin, View):
    """The fund's allocations as 360Giving open data, in the format the URL names."""

    def get(self, request, code, file_format):
        if file_format not in FORMATS:
            raise Http404("No such format")
        fund = get_object_or_404(Fund, code=code)
        try:
            return three_sixty_giving_response(fund, file_format)
        except selectors.ThreeSixtyGivingNotConfigured as error:
            messages.error(request, str(error))
            return redirect("grants:fund_detail", code=fund.code)
