"""A line's payment schedule: the page (instalments, their state and each year's check against the
approved amount) with the pattern form, and the pages that add, change and delete one instalment."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property

from grants import money, selectors
from grants.models import Instalment
from grants.schedule_forms import InstalmentDeleteForm, InstalmentForm, SchedulePatternForm
from grants.services.schedules import schedule_stamp
from grants.views._base import LineMixin, ServiceFormView
from grants.years import in_words


class ScheduleView(LineMixin, ServiceFormView):
    """GET shows the schedule to anyone who reads; POST makes it from a pattern (finance officers)."""

    form_class = SchedulePatternForm
    template_name = "grants/schedule.html"

    def get_permission_required(self):
        if self.request.method == "POST":
            return ("grants.add_instalment", "grants.delete_instalment")
        return ("grants.view_allocation", "grants.view_instalment")

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "allocation": self.allocation}
        if self.request.method != "POST":
            kwargs["initial"] = {**kwargs.get("initial", {}), "stamp": schedule_stamp(self.allocation.pk)}
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            line=self.allocation,
            schedule=selectors.line_schedule(self.allocation),
            submission=selectors.submission_in_force(self.allocation.fund),
            **kwargs,
        )

    def get_success_message(self):
        return f"{len(self.saved)} instalments planned from the pattern."

    def get_success_url(self):
        return reverse("grants:schedule", args=[self.allocation.pk])


class InstalmentCreateView(LineMixin, ServiceFormView):
    permission_required = "grants.add_instalment"
    form_class = InstalmentForm
    template_name = "grants/instalment_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "allocation": self.allocation}

    def get_context_data(self, **kwargs):
        title = f"Add an instalment: line {self.allocation.line_number}, {self.allocation.organisation}"
        return super().get_context_data(line=self.allocation, title=title, **kwargs)

    def get_success_message(self):
        return (
            f"Instalment of {money.format_gbp(self.saved.amount)} due {in_words(self.saved.due_date)} added."
        )

    def get_success_url(self):
        return reverse("grants:schedule", args=[self.allocation.pk])


class InstalmentMixin:
    @cached_property
    def instalment(self):
        return get_object_or_404(
            Instalment.objects.select_related("allocation__fund", "allocation__organisation"),
            pk=self.kwargs["pk"],
        )

    @property
    def allocation(self):
        return self.instalment.allocation

    def get_success_url(self):
        return reverse("grants:schedule", args=[self.allocation.pk])


class InstalmentUpdateView(InstalmentMixin, ServiceFormView):
    permission_required = "grants.change_instalment"
    form_class = InstalmentForm
    template_name = "grants/instalment_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "allocation": self.allocation, "instalment": self.instalment}

    def get_context_data(self, **kwargs):
        title = f"Change an instalment: line {self.allocation.line_number}, {self.allocation.organisation}"
        return super().get_context_data(line=self.allocation, title=title, **kwargs)

    def get_success_message(self):
        return (
            f"Instalment changed: {money.format_gbp(self.saved.amount)} due {in_words(self.saved.due_date)}."
        )


class InstalmentDeleteView(InstalmentMixin, ServiceFormView):
    permission_required = "grants.delete_instalment"
    form_class = InstalmentDeleteForm
    template_name = "grants/instalment_delete.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instalment": self.instalment}

    def get_context_data(self, **kwargs):
        return super().get_context_data(line=self.allocation, instalment=self.instalment, **kwargs)

    def get_success_message(self):
        return (
            f"Instalment of {money.format_gbp(self.instalment.amount)} due "
            f"{in_words(self.instalment.due_date)} deleted."
        )
