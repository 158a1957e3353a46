"""Forms of payment schedules: a pattern, one instalment, and the payment form's choice of the
instalment a payment settles. Each `save(acting_user)` calls one service."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from grants import money, services
from grants.forms import AMOUNT, DATE_INPUT, MoneyMovementForm
from grants.models import Allocation, Instalment
from grants.services.schedules import Frequency
from grants.years import FinancialYear, in_words, years_between


class SchedulePatternForm(forms.Form):
    frequency = forms.ChoiceField(choices=Frequency.choices, initial=Frequency.QUARTERLY, label="How often")
    timing = forms.ChoiceField(
        choices=Instalment.Timing.choices,
        initial=Instalment.Timing.ARREARS,
        label="Paid",
        help_text="In advance: on the first day of each period; in arrears: on its last day.",
    )
    year = forms.ChoiceField(
        required=False,
        label="Over",
        help_text="The fund's whole spend period, or one financial year. Instalments already planned in "
        "the years it covers, with no payment against them, are replaced.",
    )
    stamp = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, allocation: Allocation, **kwargs):
        super().__init__(*args, **kwargs)
        self.allocation = allocation
        fund = allocation.fund
        self.fields["year"].choices = [("", "The fund's spend period")] + [
            (str(year.start_year), year.label) for year in years_between(fund.spend_start, fund.spend_end)
        ]

    def save(self, acting_user):
        year = self.cleaned_data["year"]
        return services.schedule_from_pattern(
            allocation=self.allocation,
            frequency=self.cleaned_data["frequency"],
            timing=self.cleaned_data["timing"],
            year=FinancialYear(int(year)) if year else None,
            expected_stamp=self.cleaned_data["stamp"],
            acting_user=acting_user,
        )


class InstalmentForm(forms.Form):
    due_date = forms.DateField(label="Due date", widget=DATE_INPUT)
    amount = forms.DecimalField(
        label="Amount (£)", min_value=Decimal("0.01"), help_text="Pounds and pence, e.g. 2500.00.", **AMOUNT
    )
    timing = forms.ChoiceField(choices=Instalment.Timing.choices, label="Paid")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, allocation: Allocation, instalment: Instalment | None = None, **kwargs):
        if instalment is not None:
            # Merged under the view's own initial, which a FormView always passes (if only {}).
            kwargs["initial"] = {
                "due_date": instalment.due_date,
                "amount": instalment.amount.amount,
                "timing": instalment.timing,
                "version": instalment.version,
                **(kwargs.get("initial") or {}),
            }
        super().__init__(*args, **kwargs)
        self.allocation, self.instalment = allocation, instalment
        # A change is checked against the version its page was opened at: never saved without one.
        self.fields["version"].required = instalment is not None

    def save(self, acting_user):
        data = self.cleaned_data
        values = {"due_date": data["due_date"], "amount": data["amount"], "timing": data["timing"]}
        if self.instalment is None:
            return services.instalment_create(allocation=self.allocation, acting_user=acting_user, **values)
        return services.instalment_update(
            instalment=self.instalment, expected_version=data["version"], acting_user=acting_user, **values
        )


class InstalmentDeleteForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, instalment: Instalment, **kwargs):
        # Merged into the view's own initial, which a FormView always passes (if only {}).
        kwargs["initial"] = {"version": instalment.version, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.instalment = instalment

    def save(self, acting_user):
        services.instalment_delete(
            instalment=self.instalment, expected_version=self.cleaned_data["version"], acting_user=acting_user
        )
        return self.instalment


class InstalmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, instalment):
        return f"{money.format_gbp(instalment.amount)} due {in_words(instalment.due_date)}"


class PaymentForm(MoneyMovementForm):
    """A payment to a provider, settling one of the line's planned instalments if the officer picks one."""

    instalment = InstalmentChoiceField(
        queryset=Instalment.objects.none(),
        required=False,
        empty_label="None: not against a planned instalment",
        label="Settles the instalment",
        help_text="The line's planned instalments no payment stands against.",
    )

    def __init__(self, *args, target, **kwargs):
        super().__init__(*args, target=target, **kwargs)
        self.fields["instalment"].queryset = (
            Instalment.objects.unsettled().filter(allocation=target["allocation"]).order_by("due_date", "pk")
        )
        self.order_fields(["instalment"])
