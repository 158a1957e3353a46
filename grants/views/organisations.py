"""The organisations' pages: the list, one organisation with its lines, adding one and correcting one."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from grants import selectors
from grants.forms import OrganisationForm
from grants.forms.organisations import OrganisationEditForm
from grants.models import Organisation
from grants.tables import AllocationTable
from grants.views._base import PER_PAGE, ReadView, ServiceFormView, _safe_next


class OrganisationListView(ReadView, TemplateView):
    template_name = "grants/organisation_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(organisations=selectors.organisation_summaries(), **kwargs)


class OrganisationDetailView(ReadView, TemplateView):
    template_name = "grants/organisation_detail.html"

    def get_context_data(self, **kwargs):
        organisation = get_object_or_404(Organisation, pk=self.kwargs["pk"])
        page = selectors.organisation_page(organisation)
        can_change = self.request.user.has_perm("grants.change_allocation")
        lines = selectors.with_fund_lock(page.lines) if can_change else page.lines
        table = AllocationTable(lines, footer_total=page.total, can_change=can_change)
        RequestConfig(self.request, paginate={"per_page": PER_PAGE}).configure(table)
        return super().get_context_data(page=page, table=table, **kwargs)


class OrganisationCreateView(ServiceFormView):
    permission_required = "grants.add_organisation"
    form_class = OrganisationForm
    template_name = "grants/organisation_form.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=self.safe_next(), **kwargs)

    def safe_next(self):
        return _safe_next(self.request)

    def get_success_message(self):
        return f"{self.saved.name} added."

    def get_success_url(self):
        return self.safe_next() or reverse("grants:organisation_detail", args=[self.saved.pk])


class OrganisationEditView(ServiceFormView):
    """Correct an organisation's details: one person's change, kept in the history (no field of an
    organisation decides who receives money; grants/forms/organisations.py says why)."""

    permission_required = "grants.change_organisation"
    form_class = OrganisationEditForm
    template_name = "grants/organisation_form.html"

    @cached_property
    def organisation(self):
        return get_object_or_404(Organisation, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "organisation": self.organisation}

    def get_context_data(self, **kwargs):
        return super().get_context_data(organisation=self.organisation, **kwargs)

    def get_success_message(self):
        return f"Saved {self.saved.name}."

    def get_success_url(self):
        return reverse("grants:organisation_detail", args=[self.saved.pk])
