"""Creating a fund and correcting its facts, control total and category budgets in the app, for
finance officers: the same services, rules and history as the admin (`services.fund_save`,
`services.category_budget_save`, `services.category_budget_delete`)."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property

from grants import money, selectors
from grants.forms.funds import CategoryBudgetsForm, FundForm
from grants.models import Fund, FundYear
from grants.views._base import ServiceFormView


class FundCreateView(ServiceFormView):
    permission_required = "grants.add_fund"
    form_class = FundForm
    template_name = "grants/fund_form.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(fund=None, **kwargs)

    def get_success_message(self):
        return (
            f"{self.saved.name} added, with a control total of {money.format_gbp(self.saved.control_total)}. "
            "Set its category budgets, or profile it by financial year, from its page."
        )

    def get_success_url(self):
        return reverse("grants:fund_detail", args=[self.saved.code])


class FundMixin:
    @cached_property
    def fund(self):
        return get_object_or_404(Fund.objects.select_related("funder"), code=self.kwargs["code"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "fund": self.fund}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            fund=self.fund, submission=selectors.submission_in_force(self.fund), **kwargs
        )


class FundEditView(FundMixin, ServiceFormView):
    """A fund's facts; a profiled fund's control total is its years' sum, set on its profile page."""

    permission_required = "grants.change_fund"
    form_class = FundForm
    template_name = "grants/fund_form.html"

    @cached_property
    def profiled(self) -> bool:
        return FundYear.objects.filter(fund=self.fund).exists()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "profiled": self.profiled}

    def get_context_data(self, **kwargs):
        return super().get_context_data(profiled=self.profiled, **kwargs)

    def get_success_message(self):
        return f"Saved {self.saved.name}."

    def get_success_url(self):
        # The code may have changed: the fund's page is at its new address.
        return reverse("grants:fund_detail", args=[self.saved.code])


class FundBudgetsView(FundMixin, ServiceFormView):
    """The fund's ring-fenced budget per funding category."""

    permission_required = ("grants.add_categorybudget", "grants.change_categorybudget")
    form_class = CategoryBudgetsForm
    template_name = "grants/fund_budgets.html"

    def get_success_message(self):
        return f"Saved the category budgets of {self.fund.name}."

    def get_success_url(self):
        return reverse("grants:fund_detail", args=[self.fund.code])
