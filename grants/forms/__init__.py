"""Forms for finance staff. Each hands its cleaned data to one service; errors sit beside their field."""

import re
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl.utils import column_index_from_string

from grants import money, services, years
from grants.imports.reading import FIELD_CHOICES, IGNORE, MAX_COLUMNS, Mapping, normalise
from grants.models import (
    CHARITY_NUMBER,
    CHARITY_SUBSIDIARY_NUMBER,
    COMPANY_NUMBER,
    LOCATION_CODE,
    NI_CHARITY_NUMBER,
    ORG_IDENTIFIER,
    POSTCODE,
    Allocation,
    FundingCategory,
    Organisation,
    ThematicArea,
    normal_postcode,
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
    contact_email = forms.EmailField(
        required=False, help_text="Whom the office writes to about returns due and reminders."
    )
    charity_subsidiary_number = forms.CharField(
        label="Subsidiary number",
        required=False,
        max_length=2,
        validators=[CHARITY_SUBSIDIARY_NUMBER],
        help_text="Only for a subsidiary charity: the digits after the dash (the 1 of 1106046-1).",
    )
    ni_charity_number = forms.CharField(
        label="Northern Ireland charity number",
        required=False,
        max_length=9,
        help_text="NIC and 6 digits, e.g. NIC100002.",
    )
    registered_address = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="As registered, without the postcode.",
    )
    postcode = forms.CharField(required=False, max_length=10, help_text="e.g. SW1A 1AA.")
    location_code = forms.CharField(
        required=False,
        max_length=9,
        help_text="Where known, the ONS code of its local authority district, e.g. E06000001.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_postcode(self):
        postcode = normal_postcode(self.cleaned_data["postcode"])
        if postcode:
            POSTCODE(postcode)
        return postcode

    # Capitals are supplied before the checks: nic100002 is NIC100002.
    def clean_ni_charity_number(self):
        number = self.cleaned_data["ni_charity_number"].strip().upper()
        if number:
            NI_CHARITY_NUMBER(number)
        return number

    def clean_location_code(self):
        code = self.cleaned_data["location_code"].strip().upper()
        if code:
            LOCATION_CODE(code)
        return code

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


class CarryForwardForm(forms.Form):
    """Money carried from one financial year to the next, as the funder agreed: of a line's amount,
    or (with no line) of the fund's control total."""

    from_year = forms.ChoiceField(
        label="Carry forward from",
        help_text="Out of this year on its last day (31 March), into the next on its first (1 April).",
    )
    amount = forms.DecimalField(
        label="Amount (£)", min_value=Decimal("0.01"), help_text="Pounds and pence, e.g. 12500.00.", **AMOUNT
    )
    reference = forms.CharField(
        label="Funder's agreement", max_length=100, help_text="The reference of the funder's letter or email."
    )
    memo = forms.CharField(label="Note", required=False, max_length=500)

    def __init__(self, *args, fund, record, target, **kwargs):
        super().__init__(*args, **kwargs)
        self.record, self.target = record, target
        # Every year of the spend period but the last: there is a next year to carry into.
        choices = years.years_between(fund.spend_start, fund.spend_end)[:-1]
        self.fields["from_year"].choices = [(year.label, year.described) for year in choices]

    def clean_from_year(self):
        return years.parse_year(self.cleaned_data["from_year"])

    def save(self, acting_user):
        return self.record(acting_user=acting_user, **self.target, **self.cleaned_data)


class FunderReceiptForm(MoneyMovementForm):
    """Money the funder paid the office for the fund."""

    reference = forms.CharField(
        max_length=100, help_text="The funder's remittance reference, as on its remittance advice."
    )


class UnderspendDueForm(MoneyMovementForm):
    """A sum a provider owes back, recorded before the cash arrives: a reason, and a reference if any."""

    reference = forms.CharField(
        max_length=100, required=False, help_text="Optional: the provider's return or invoice reference."
    )
    memo = forms.CharField(
        label="Why is it due?",
        max_length=500,
        help_text="E.g. 'Underspend declared in the provider's 2024-25 year-end return'.",
    )


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


class FundProfileForm(forms.Form):
    """One figure per financial year of the fund's spend period (`year_2023` for 2023-24), the reason,
    and the fund's version when the form was opened: a save after a colleague's is refused, and the
    form comes back with what this user typed."""

    memo = forms.CharField(
        label="Why are the figures changing?",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with each year's revision, e.g. the award letter's reference and date.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, fund, profile, **kwargs):
        super().__init__(*args, **kwargs)
        self.fund = fund
        held = {row.year: row.control_total.amount for row in profile}
        self.years = years.years_between(fund.spend_start, fund.spend_end)
        figures = {}
        for year in self.years:
            name = services.profile_field(year)
            figures[name] = forms.DecimalField(
                label=f"{year.described} (£)", min_value=Decimal("0.00"), **AMOUNT
            )
            self.initial.setdefault(name, held.get(year, Decimal("0.00")))
        # The years first, in order, then the reason.
        self.fields = {**figures, **self.fields}
        self.initial.setdefault("version", fund.version)

    def save(self, acting_user):
        data = self.cleaned_data
        return services.fund_profile_set(
            fund=self.fund,
            figures={year: data[services.profile_field(year)] for year in self.years},
            memo=data["memo"],
            acting_user=acting_user,
            expected_version=data["version"],
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


COLUMN_PARAMETER = re.compile(r"column_([A-Z]{1,2})")
MAX_MAPPED_TEXTS = 500


class ImportMappingForm(forms.Form):
    """What the officer says about an uploaded table where its headings do not, carried in the preview's
    query string (and, to confirm, in hidden fields): `sheet`, `column_<LETTER>` (a field key or
    "ignore"; blank keeps the column as read), `thematic_area` and `funding_category` (codes, for lines
    that name none), and pairs `text_<n>` + `meaning_<n>` ("thematic_area:CODE", "funding_category:CODE",
    or "both:CODE" where an area and a category share the code) for a text of the file that names
    nothing the ledger knows.

    Bound to a query string, its fields are those the data carries, so a stale or crafted value is a
    form error beside its field, never a 500, and `mapping()` gives the `Mapping` the import reads the
    file with. Unbound, `sheet` (a `ParsedSheet`), `unmapped` and `said` give the fields the preview
    shows, `initial` what is chosen."""

    sheet = forms.CharField(label="Sheet to read", required=False, max_length=31)
    thematic_area = forms.ChoiceField(label="Thematic area for lines that name none", required=False)
    funding_category = forms.ChoiceField(label="Funding category for lines that name none", required=False)

    def __init__(self, data=None, *, sheet=None, unmapped=(), said=(), **kwargs):
        super().__init__(data, **kwargs)
        self.areas = list(ThematicArea.objects.all())
        self.categories = list(FundingCategory.objects.all())
        for name, items in (("thematic_area", self.areas), ("funding_category", self.categories)):
            self.fields[name].choices = [
                ("", "None: the file says"),
                *((item.code, item.name) for item in items),
            ]
        # A name that is both a thematic area and a funding category ("Sexual Violence") can mean both.
        category_codes = {item.code for item in self.categories}
        self.both = [item for item in self.areas if item.code in category_codes]
        self.meanings = {
            **{f"thematic_area:{item.code}": item.name for item in self.areas},
            **{f"funding_category:{item.code}": item.name for item in self.categories},
            **{f"both:{item.code}": item.name for item in self.both},
        }
        if sheet is not None and len(sheet.sheet_names) > 1:
            self.fields["sheet"] = forms.ChoiceField(
                label="Sheet to read", required=False, choices=[(name, name) for name in sheet.sheet_names]
            )
            self.initial.setdefault("sheet", sheet.sheet_name)
        self.column_names: list[str] = []
        self.column_readings = {}
        shown = {column.letter: column for column in (sheet.columns if sheet is not None else ())}
        letters = set(shown) | {
            match.group(1) for key in data or {} if (match := COLUMN_PARAMETER.fullmatch(key))
        }
        for letter in sorted(letters, key=lambda letter: (len(letter), letter)):
            self._add_column(letter, shown.get(letter))
        self.text_names: list[tuple[str, str, str]] = []
        if data is None:
            # The page shows the texts already said (to change) and those still to say.
            seen = {normalise(text) for text, _ in said}
            pairs = [(text, meaning, ("thematic_area", "funding_category")) for text, meaning in said]
            pairs += [(item.text, "", item.fields) for item in unmapped if normalise(item.text) not in seen]
            for number, (text, meaning, fields) in enumerate(pairs, start=1):
                self._add_text(number, text, fields)
                self.initial[f"text_{number}"] = text
                self.initial[f"meaning_{number}"] = meaning
        else:
            numbers = {
                int(number)
                for key in data
                for prefix in ("text_", "meaning_")
                if key.startswith(prefix)
                and (number := key.removeprefix(prefix)).isdigit()
                and len(number) < 5
            }
            for number in sorted(numbers)[:MAX_MAPPED_TEXTS]:
                self._add_text(number, data.get(f"text_{number}", ""), ("thematic_area", "funding_category"))

    def _add_column(self, letter: str, column) -> None:
        name = f"column_{letter}"
        chosen = column is not None and column.how == "chosen"
        heading = f"“{column.heading}”" if column is not None and column.heading else "no heading"
        self.fields[name] = forms.ChoiceField(
            label=f"Column {letter} ({heading}) is",
            required=False,
            choices=[
                ("", "As read" if column is None or chosen else f"As read: {column.title}"),
                *FIELD_CHOICES,
            ],
        )
        if chosen:
            self.initial.setdefault(name, column.key or IGNORE)
        self.column_names.append(name)
        self.column_readings[name] = column

    def _add_text(self, number: int, text: str, fields: tuple[str, ...]) -> None:
        groups = []
        if "thematic_area" in fields:
            groups.append(
                ("Thematic area", [(f"thematic_area:{item.code}", item.name) for item in self.areas])
            )
        if "funding_category" in fields:
            groups.append(
                (
                    "Funding category",
                    [(f"funding_category:{item.code}", item.name) for item in self.categories],
                )
            )
        if set(fields) == {"thematic_area", "funding_category"} and self.both:
            groups.append(
                (
                    "Thematic area and funding category",
                    [(f"both:{item.code}", f"{item.name} (both)") for item in self.both],
                )
            )
        self.fields[f"text_{number}"] = forms.CharField(
            required=False, max_length=400, widget=forms.HiddenInput
        )
        self.fields[f"meaning_{number}"] = forms.ChoiceField(
            label=f"“{text}” means" if text else "This text means",
            required=False,
            choices=[("", "Not said yet"), *groups],
        )
        self.text_names.append((f"text_{number}", f"meaning_{number}", text))

    def clean(self):
        cleaned = super().clean()
        for name in self.column_names:
            if cleaned.get(name) and column_index_from_string(name.removeprefix("column_")) > MAX_COLUMNS:
                self.add_error(name, f"Only the first {MAX_COLUMNS} columns of a sheet are read.")
        for text_name, meaning_name, _ in self.text_names:
            if cleaned.get(meaning_name) and not (cleaned.get(text_name) or "").strip():
                self.add_error(meaning_name, "This meaning names no text of the file.")
        return cleaned

    def columns(self):
        """(the column as read, its select) for the preview's table of columns."""
        return [(self.column_readings[name], self[name]) for name in self.column_names]

    def texts(self):
        """(the hidden text, its meaning's select) for each text to say."""
        return [(self[text_name], self[meaning_name]) for text_name, meaning_name, _ in self.text_names]

    def said(self) -> list[tuple[str, str]]:
        """The valid (text, meaning) pairs the data says, in order."""
        data = self.cleaned_data
        pairs = []
        for text_name, meaning_name, _ in self.text_names:
            text, meaning = (data.get(text_name) or "").strip(), data.get(meaning_name)
            if text and meaning:
                pairs.append((text, meaning))
        return pairs

    def chosen(self) -> dict[str, str]:
        """The valid choices of sheet, columns and whole-file values, as a display form's `initial`."""
        names = ["sheet", "thematic_area", "funding_category", *self.column_names]
        return {name: self.cleaned_data[name] for name in names if self.cleaned_data.get(name)}

    def as_hidden_pairs(self) -> list[tuple[str, str]]:
        """The valid data again as (name, value) pairs: the confirmation's hidden fields."""
        pairs = list(self.chosen().items())
        for number, (text, meaning) in enumerate(self.said(), start=1):
            pairs += [(f"text_{number}", text), (f"meaning_{number}", meaning)]
        return pairs

    def mapping(self) -> Mapping:
        """The mapping the valid part of the data says (a field in error says nothing)."""
        data = self.cleaned_data
        areas = {item.code: item.name for item in self.areas}
        categories = {item.code: item.name for item in self.categories}
        return Mapping(
            sheet=data.get("sheet") or "",
            columns=tuple(
                (data[name], name.removeprefix("column_")) for name in self.column_names if data.get(name)
            ),
            thematic_area=areas.get(data.get("thematic_area") or "", ""),
            funding_category=categories.get(data.get("funding_category") or "", ""),
            # "funding_category:CODE": the field chosen, not every field with that name.
            values=tuple((text, meaning) for text, meaning in self.said() if meaning in self.meanings),
        )
