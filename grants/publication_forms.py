"""The form for a fund's publication facts (grants.services.publication)."""

from __future__ import annotations

from django import forms

from grants import services
from grants.models import (
    GEO_CODE_TYPE,
    LOCATION_CODE,
    REGISTER_FIELDS,
    Fund,
    LineRegisterText,
    not_a_formula,
)


def _capitals(value: str) -> str:
    return value.strip().upper()


class FundPublicationForm(forms.Form):
    data_source_url = forms.URLField(
        label="Data source",
        required=False,
        assume_scheme="https",
        help_text="A web page the figures come from. Blank: the office's own page for open data.",
    )
    register_purpose = forms.CharField(
        label="Purpose of the grants",
        required=False,
        validators=[not_a_formula],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For every line that does not say otherwise.",
    )
    register_conditions = forms.CharField(
        label="Conditions attached",
        required=False,
        validators=[not_a_formula],
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    register_crime_reduction = forms.CharField(
        label="Why the grants are expected to reduce crime and disorder",
        required=False,
        validators=[not_a_formula],
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    beneficiary_location_name = forms.CharField(
        label="Beneficiary location",
        required=False,
        max_length=200,
        validators=[not_a_formula],
        help_text="Where this fund's beneficiaries are, if not the whole police force area. Blank: the "
        "office's police force area, shown above.",
    )
    beneficiary_location_code = forms.CharField(
        label="Beneficiary location code",
        required=False,
        max_length=9,
        help_text="Its ONS GSS code, e.g. E08000026 for Coventry.",
    )
    beneficiary_location_code_type = forms.CharField(
        label="Beneficiary location geography type",
        required=False,
        max_length=10,
        help_text="The kind of area the code names, e.g. LAD for a local authority district.",
    )
    is_published = forms.BooleanField(
        label="Publish the fund's public page (its register and approved grants, without a login)",
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, fund: Fund, **kwargs):
        self.fund = fund
        # FormView passes an empty `initial` of its own: the fund's values go under it.
        kwargs["initial"] = {
            **{name: getattr(fund, name) for name in services.FUND_PUBLICATION_FIELDS},
            "is_published": fund.is_published,
            "version": fund.version,
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)

    def clean_beneficiary_location_code(self) -> str:
        code = _capitals(self.cleaned_data["beneficiary_location_code"])
        if code:
            LOCATION_CODE(code)
        return code

    def clean_beneficiary_location_code_type(self) -> str:
        kind = _capitals(self.cleaned_data["beneficiary_location_code_type"])
        if kind:
            GEO_CODE_TYPE(kind)
        return kind

    def save(self, acting_user) -> Fund:
        data = dict(self.cleaned_data)
        version = data.pop("version")
        return services.fund_publication_update(
            fund=self.fund, acting_user=acting_user, expected_version=version, **data
        )


class LineRegisterTextForm(forms.Form):
    """A line's own register text; a blank field takes the fund's default."""

    purpose = forms.CharField(
        required=False, validators=[not_a_formula], widget=forms.Textarea(attrs={"rows": 3})
    )
    conditions = forms.CharField(
        label="Conditions attached",
        required=False,
        validators=[not_a_formula],
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    crime_reduction = forms.CharField(
        label="Why it is expected to reduce crime and disorder",
        required=False,
        validators=[not_a_formula],
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # The version the line's text was at when the form opened (0: it had none), so a form opened
    # before a colleague's save is refused instead of silently undoing their words.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, allocation, **kwargs):
        self.allocation = allocation
        own = LineRegisterText.objects.filter(allocation=allocation).first()
        kwargs["initial"] = {
            **({name: getattr(own, name) for name in REGISTER_FIELDS} if own is not None else {}),
            "version": own.version if own is not None else 0,
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
        # Django's form templates print help text unescaped, so the fund's defaults (user text) are
        # shown by the page's template instead.
        for name in REGISTER_FIELDS:
            self.fields[name].help_text = "Blank: the fund's default, shown above."

    def save(self, acting_user) -> LineRegisterText:
        data = dict(self.cleaned_data)
        version = data.pop("version")
        return services.line_register_text_set(
            allocation=self.allocation, acting_user=acting_user, expected_version=version, **data
        )
