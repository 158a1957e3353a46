"""Forms for finance staff. Each hands its cleaned data to one service; errors sit beside their field."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from grants import money, services
from grants.models import (
    CHARITY_NUMBER,
    COMPANY_NUMBER,
    ORG_IDENTIFIER,
    Allocation,
    FundingCategory,
    Organisation,
    ThematicArea,
    not_a_formula,
)

AMOUNT = {"max_digits": money.MAX_DIGITS, "decimal_places": money.DECIMAL_PLACES}
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: beside its field where it names one."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class AllocationCreateForm(forms.Form):
    line_number = forms.IntegerField(
        label="Line number", min_value=1, help_text="Its number in the fund's allocation table."
    )
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.order_by("name"))
    service = forms.CharField(
        required=False,
        max_length=200,
        validators=[not_a_formula],
        help_text='Optional, e.g. "Domestic Abuse Service".',
    )
    thematic_area = forms.ModelChoiceField(queryset=ThematicArea.objects.all())
    funding_category = forms.ModelChoiceField(queryset=FundingCategory.objects.all())
    amount = forms.DecimalField(
        label="Amount (£)", min_value=Decimal("0.01"), help_text="Pounds and pence, e.g. 12500.00.", **AMOUNT
    )
    effective_date = forms.DateField(label="Award date", initial=timezone.localdate, widget=DATE_INPUT)
    memo = forms.CharField(
        label="Source or reason",
        max_length=500,
        help_text="Kept with the award entry, e.g. the award letter's reference.",
    )

    def __init__(self, *args, fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fund = fund

    def clean_line_number(self):
        number = self.cleaned_data["line_number"]
        if Allocation.objects.filter(fund=self.fund, line_number=number).exists():
            raise ValidationError(f"Line {number} is already taken in this fund.")
        return number

    def save(self, acting_user) -> Allocation:
        return services.allocation_create(fund=self.fund, acting_user=acting_user, **self.cleaned_data)


class ChangeAmountForm(forms.Form):
    amount = forms.DecimalField(label="New amount (£)", min_value=Decimal("0.00"), **AMOUNT)
    effective_date = forms.DateField(label="Effective date", initial=timezone.localdate, widget=DATE_INPUT)
    memo = forms.CharField(
        label="Reason for the change",
        max_length=500,
        help_text="Kept with the variation entry, e.g. the revised award letter.",
    )
    # The amount the page showed: a change someone else made since is reported, not undone.
    shown_amount = forms.DecimalField(widget=forms.HiddenInput, **AMOUNT)

    def __init__(self, *args, allocation, **kwargs):
        super().__init__(*args, **kwargs)
        self.allocation = allocation

    def save(self, acting_user):
        data = self.cleaned_data
        return services.allocation_set_amount(
            allocation=self.allocation,
            amount=data["amount"],
            expected_current=data["shown_amount"],
            effective_date=data["effective_date"],
            memo=data["memo"],
            acting_user=acting_user,
        )


class OrganisationForm(forms.Form):
    name = forms.CharField(max_length=300, validators=[not_a_formula])
    short_name = forms.CharField(required=False, max_length=50, help_text="Acronym, e.g. BCWA.")
    charity_number = forms.CharField(required=False, max_length=20, validators=[CHARITY_NUMBER])
    company_number = forms.CharField(
        required=False,
        max_length=20,
        validators=[COMPANY_NUMBER],
        help_text="As Companies House writes it: 8 characters, leading zeros included.",
    )
    org_identifier = forms.CharField(
        label="Organisation identifier",
        required=False,
        max_length=100,
        validators=[ORG_IDENTIFIER],
        help_text="For open data, where the charity or company number does not give one, e.g. GB-EDU-123456.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        existing = Organisation.objects.filter(name__iexact=name).first()
        if existing is not None:
            raise ValidationError(f"{existing.name} is already in the ledger.")
        return name

    def save(self, acting_user) -> Organisation:
        return services.organisation_create(acting_user=acting_user, **self.cleaned_data)


class MoneyMovementForm(forms.Form):
    """A payment to a provider, underspend a provider returned, or money returned to the funder."""

    amount = forms.DecimalField(
        label="Amount (£)", min_value=Decimal("0.01"), help_text="Pounds and pence, e.g. 12500.00.", **AMOUNT
    )
    effective_date = forms.DateField(label="Date", initial=timezone.localdate, widget=DATE_INPUT)
    reference = forms.CharField(
        max_length=100, help_text="The payment or remittance reference, as on the bank statement."
    )
    memo = forms.CharField(label="Note", required=False, max_length=500)

    def __init__(self, *args, record, target, **kwargs):
        super().__init__(*args, **kwargs)
        self.record, self.target = record, target

    def save(self, acting_user):
        return self.record(acting_user=acting_user, **self.target, **self.cleaned_data)


class ReverseEntryForm(forms.Form):
    memo = forms.CharField(
        label="Why is this entry being reversed?",
        max_length=500,
        help_text="Kept with the reversing entry, e.g. 'Paid to the wrong account; see BACS recall 17'.",
    )

    def __init__(self, *args, entry, **kwargs):
        super().__init__(*args, **kwargs)
        self.entry = entry

    def save(self, acting_user):
        return services.entry_reverse(
            entry=self.entry, memo=self.cleaned_data["memo"], acting_user=acting_user
        )


class AllocationEditForm(forms.ModelForm):
    """A line's descriptive fields. `version` is the one the form was opened at: a save after a
    colleague's is refused, and the form comes back with what this user typed."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Why is the line changing?",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed when the line has approved money and its organisation, service, funding "
        "category or thematic area changes: the change then awaits approval by someone else, and the "
        "line stays as it is until then.",
    )

    class Meta:
        model = Allocation
        fields = ["organisation", "service", "thematic_area", "funding_category", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version

    def validate_unique(self):
        pass

    def save(self, acting_user):
        return services.allocation_update(
            allocation=self.instance,
            acting_user=acting_user,
            expected_version=self.cleaned_data["version"],
            reason=self.cleaned_data["reason"],
        )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label="Why is the fund being reopened?",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the submission, e.g. 'MoJ query of 3 November: line 7 misallocated'.",
    )

    def __init__(self, *args, fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fund = fund

    def save(self, acting_user):
        return services.fund_reopen(
            fund=self.fund, reason=self.cleaned_data["reason"], acting_user=acting_user
        )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet (.xlsx)",
        help_text="The fund's allocation table, or an MoJ return downloaded from this ledger.",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.LEDGER_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; files over "
                f"{limit / (1024 * 1024):.1f} MB are not imported."
            )
        return upload
