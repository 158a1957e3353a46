"""The allocation lines' pages: the list of every line, one line's detail, adding a line, editing
it and changing its amount."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from grants import money, selectors, services
from grants.forms import AllocationCreateForm, AllocationEditForm, ChangeAmountForm
from grants.models import Allocation, Approval, Fund
from grants.views._base import AllocationTableMixin, LineMixin, ReadView, ServiceFormView


class AllocationListView(ReadView, AllocationTableMixin, TemplateView):
    template_name = "grants/allocation_list.html"

    def lines(self):
        return selectors.allocation_rows()

    def plain_lines(self):
        return Allocation.objects.all()

    def table_fund(self):
        return None

    def csv_name_parts(self):
        return ["allocations"]

    def get_context_data(self, **kwargs):
        filterset, table = self.allocation_table()
        return super().get_context_data(filter=filterset, table=table, **kwargs)


class AllocationCreateView(ServiceFormView):
    permission_required = "grants.add_allocation"
    form_class = AllocationCreateForm
    template_name = "grants/allocation_form.html"

    @cached_property
    def fund(self):
        return get_object_or_404(Fund, code=self.kwargs["code"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "fund": self.fund}

    def get_initial(self):
        return {"line_number": selectors.next_line_number(self.fund)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(fund=self.fund, **kwargs)

    def get_success_message(self):
        line = self.saved
        amount = services.allocation_awarded(line, Approval.APPROVED_OR_PENDING)
        return (
            f"Line {line.line_number} added: {line.organisation.name} "
            f"{money.format_gbp(amount)}, awaiting approval."
        )

    def get_success_url(self):
        return reverse("grants:fund_detail", args=[self.fund.code])


class AllocationChangeAmountView(LineMixin, ServiceFormView):
    permission_required = "grants.change_allocation"
    form_class = ChangeAmountForm
    template_name = "grants/allocation_change_amount.html"

    @cached_property
    def current(self):
        """The amount as recorded, approved or not: the figure a change starts from."""
        return services.allocation_awarded(self.allocation, Approval.APPROVED_OR_PENDING)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "allocation": self.allocation}

    def get_initial(self):
        return {"amount": self.current.amount, "shown_amount": self.current.amount}

    def get_context_data(self, **kwargs):
        return super().get_context_data(allocation=self.allocation, current=self.current, **kwargs)

    def get_success_message(self):
        if self.saved is None:
            return f"The amount was already {money.format_gbp(self.current)}; nothing was recorded."
        amount = services.allocation_awarded(self.allocation, Approval.APPROVED_OR_PENDING)
        return (
            f"Line {self.allocation.line_number} changed by {money.format_gbp(self.saved.amount)} "
            f"to {money.format_gbp(amount)}, awaiting approval."
        )

    def get_success_url(self):
        return reverse("grants:fund_detail", args=[self.allocation.fund.code])


class AllocationDetailView(ReadView, TemplateView):
    """One line: its money, every entry with who recorded and approved it, and what can be done."""

    template_name = "grants/allocation_detail.html"

    def get_context_data(self, **kwargs):
        line = get_object_or_404(
            selectors.allocation_rows().select_related("fund__funder"), pk=self.kwargs["pk"]
        )
        return super().get_context_data(
            line=line,
            entries=selectors.allocation_entries(line),
            changes=selectors.line_changes(line),
            submission=selectors.submission_in_force(line.fund),
            underspend_due=selectors.line_underspend_due(line),
            **kwargs,
        )


class AllocationEditView(LineMixin, ServiceFormView):
    permission_required = "grants.change_allocation"
    form_class = AllocationEditForm
    template_name = "grants/allocation_edit.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.allocation}

    def get_context_data(self, **kwargs):
        return super().get_context_data(allocation=self.allocation, **kwargs)

    def get_success_message(self):
        if (
            selectors.pending_line_changes()
            .filter(allocation=self.saved, proposed_by=self.request.user)
            .exists()
        ):
            return (
                f"Line {self.saved.line_number}: the change awaits approval by someone else; until "
                "then the line stays as it was."
            )
        return f"Line {self.saved.line_number} saved."

    def get_success_url(self):
        return reverse("grants:allocation_detail", args=[self.allocation.pk])
