"""Money movements on the ledger (payments, returned underspend and underspend due, money received
from and returned to the funder), reversing
an entry, and deciding on entries and proposed changes one at a time (many at once: `approvals`)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View

from grants import money, services
from grants.forms import (
    CarryForwardForm,
    FunderReceiptForm,
    MoneyMovementForm,
    ReverseEntryForm,
    UnderspendDueForm,
)
from grants.models import Fund, Instalment, LedgerEntry
from grants.schedule_forms import PaymentForm
from grants.views._base import LineMixin, ServiceFormView, _safe_next
from grants.years import financial_year


class MoneyMovementView(ServiceFormView):
    """Record a payment, returned underspend or a return to the funder; it waits for approval."""

    permission_required = "grants.add_ledgerentry"
    form_class = MoneyMovementForm
    template_name = "grants/money_movement_form.html"
    kind: str

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "record": self.record, "target": self.target()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=self.title, kind=LedgerEntry.Kind(self.kind).label, back=self.get_success_url(), **kwargs
        )

    def get_success_message(self):
        entry = self.saved
        return f"{entry.get_kind_display()} of {money.format_gbp(entry.amount)} recorded, awaiting approval."


class AllocationMoneyMixin(LineMixin):
    def target(self):
        return {"allocation": self.allocation}

    @property
    def title(self):
        kind = LedgerEntry.Kind(self.kind).label
        return f"{kind}: line {self.allocation.line_number}, {self.allocation.organisation}"

    def get_success_url(self):
        return reverse("grants:allocation_detail", args=[self.allocation.pk])


class PaymentCreateView(AllocationMoneyMixin, MoneyMovementView):
    """A payment, which may settle one of the line's planned instalments (`grants.services.schedules`)."""

    kind = LedgerEntry.Kind.PAYMENT
    form_class = PaymentForm
    record = staticmethod(services.payment_record_settling)

    def get_initial(self):
        """`?instalment=ID` (the schedule page's link) picks the instalment and offers its amount."""
        initial = super().get_initial()
        chosen = self.request.GET.get("instalment", "")
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if chosen.isdecimal() and chosen.isascii():
            instalment = Instalment.objects.filter(pk=int(chosen), allocation=self.allocation).first()
            if instalment is not None:
                initial.update(instalment=instalment.pk, amount=instalment.amount.amount)
        return initial


class UnderspendCreateView(AllocationMoneyMixin, MoneyMovementView):
    kind = LedgerEntry.Kind.UNDERSPEND_RETURNED
    record = staticmethod(services.underspend_record)


class UnderspendDueCreateView(AllocationMoneyMixin, MoneyMovementView):
    kind = LedgerEntry.Kind.UNDERSPEND_DUE
    form_class = UnderspendDueForm
    record = staticmethod(services.underspend_due_record)


class FundMoneyMixin:
    @cached_property
    def fund(self):
        return get_object_or_404(Fund, code=self.kwargs["code"])

    def target(self):
        return {"fund": self.fund}

    def get_success_url(self):
        return reverse("grants:fund_detail", args=[self.fund.code])


class FunderReturnCreateView(FundMoneyMixin, MoneyMovementView):
    kind = LedgerEntry.Kind.RETURNED_TO_FUNDER
    record = staticmethod(services.funder_return_record)

    @property
    def title(self):
        return f"Return money to the funder from {self.fund.name}"


class FunderReceiptCreateView(FundMoneyMixin, MoneyMovementView):
    kind = LedgerEntry.Kind.RECEIVED_FROM_FUNDER
    form_class = FunderReceiptForm
    record = staticmethod(services.funder_receipt_record)

    @property
    def title(self):
        return f"Money received from the funder for {self.fund.name}"


class CarryForwardView(ServiceFormView):
    """Carry money from one financial year to the next, with the funder's agreement: a pair of
    entries that waits for approval by someone else."""

    permission_required = "grants.add_ledgerentry"
    form_class = CarryForwardForm
    template_name = "grants/carry_forward_form.html"

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "fund": self.fund,
            "record": self.record,
            "target": self.target(),
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=self.title, back=self.get_success_url(), **kwargs)

    def get_success_message(self):
        in_leg = self.saved
        into = financial_year(in_leg.effective_date).label
        return f"{money.format_gbp(in_leg.amount)} carried forward to {into}, awaiting approval."


class LineCarryForwardView(AllocationMoneyMixin, CarryForwardView):
    record = staticmethod(services.carry_forward_line)

    @property
    def fund(self):
        return self.allocation.fund

    @property
    def title(self):
        return f"Carry forward: line {self.allocation.line_number}, {self.allocation.organisation}"


class FundCarryForwardView(CarryForwardView):
    record = staticmethod(services.carry_forward_fund)

    @cached_property
    def fund(self):
        return get_object_or_404(Fund, code=self.kwargs["code"])

    def target(self):
        return {"fund": self.fund}

    @property
    def title(self):
        return f"Carry forward part of {self.fund.name}'s control total"

    def get_success_url(self):
        return reverse("grants:fund_years", args=[self.fund.code])


def _entry_page(entry: LedgerEntry) -> str:
    if entry.allocation_id is not None:
        return reverse("grants:allocation_detail", args=[entry.allocation_id])
    return reverse("grants:fund_detail", args=[entry.fund.code])


class EntryReverseView(ServiceFormView):
    permission_required = "grants.add_ledgerentry"
    form_class = ReverseEntryForm
    template_name = "grants/entry_reverse.html"

    @cached_property
    def entry(self):
        return get_object_or_404(
            LedgerEntry.objects.select_related("fund", "allocation__organisation"), pk=self.kwargs["pk"]
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "entry": self.entry}

    def get_context_data(self, **kwargs):
        return super().get_context_data(entry=self.entry, back=self.get_success_url(), **kwargs)

    def get_success_message(self):
        entry = self.entry
        return f"{entry.get_kind_display()} of {money.format_gbp(entry.amount)} reversed, awaiting approval."

    def get_success_url(self):
        return _entry_page(self.entry)


def _decided_label(item) -> str:
    if isinstance(item, LedgerEntry):
        return f"{item.get_kind_display()} of {money.format_gbp(item.amount)}"
    return f"The change to line {item.allocation.line_number}"


def _item_page(item) -> str:
    if isinstance(item, LedgerEntry):
        return _entry_page(item)
    return reverse("grants:allocation_detail", args=[item.allocation_id])


DECIDED = {
    services.Decision.APPROVE: "approved",
    services.Decision.REJECT: "rejected",
    services.Decision.WITHDRAW: "withdrawn",
}


def decision_permission(model, decision: services.Decision) -> str:
    """The permission a decision on a row of `model` needs; the service decides whose it may be."""
    if decision is services.Decision.WITHDRAW:
        return "grants.add_ledgerentry" if model is LedgerEntry else "grants.change_allocation"
    return "grants.approve_ledgerentry" if model is LedgerEntry else "grants.approve_linechange"


class DecisionView(LoginRequiredMixin, View):
    """POST only: approve, reject or withdraw one entry or proposed change, then go back to where
    the button was. A rejection or withdrawal carries the reason typed beside its button."""

    model = LedgerEntry
    decision = services.Decision.APPROVE

    def post(self, request, pk):
        item = decide_one(request, self.model, pk, self.decision)
        return redirect(_safe_next(request) or _item_page(item))


def decide_one(request, model, pk: int, decision: services.Decision):
    """Take `decision` on one entry or proposed change as the signed-in user, and say how it went."""
    if not request.user.has_perm(decision_permission(model, decision)):
        raise PermissionDenied
    related = ("fund",) if model is LedgerEntry else ("fund", "allocation")
    item = get_object_or_404(model.objects.select_related(*related), pk=pk)
    kind = "entries" if model is LedgerEntry else "changes"
    try:
        services.decisions_take(
            decision=decision,
            acting_user=request.user,
            reason=request.POST.get("reason", ""),
            **{kind: [item]},
        )
    except services.RowsRefused as refused:
        messages.error(request, " ".join(refused.rows[0].messages))  # the one row decided
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{_decided_label(item)} {DECIDED[decision]}.")
    return item
