"""Reference data lines point at: thematic areas, funding categories, funders and organisations."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from grants.models._base import CodedQuerySet, Versioned, not_a_formula, not_a_formula_constraint


class ReferenceData(Versioned):
    """Reference data with a stable code that fixtures, imports and exports refer to."""

    code = models.SlugField(max_length=50, unique=True, help_text="Stable identifier; never reused.")
    name = models.CharField(max_length=100, unique=True, validators=[not_a_formula])
    description = models.TextField(blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    objects = CodedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["sort_order", "name"]
        constraints = [
            # Workbook formulas (SUMIFS) match names ignoring case, so the names must differ by more.
            models.UniqueConstraint(
                Lower("name"),
                name="%(class)s_name_is_unique_ignoring_case",
                violation_error_message="This name is taken (names must differ by more than capitals).",
            ),
            not_a_formula_constraint("%(class)s", "name", "A name"),
        ]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


class ThematicArea(ReferenceData):
    """The area of need a line serves (Sexual Violence, Domestic Abuse)."""

    class Meta(ReferenceData.Meta):
        verbose_name = "thematic area"


class FundingCategory(ReferenceData):
    """The funder's category for a line (Sexual Violence, DA PCC commissioned, ...)."""

    class Meta(ReferenceData.Meta):
        verbose_name = "funding category"
        verbose_name_plural = "funding categories"


class Funder(Versioned):
    """A body the office receives grants from, e.g. the Ministry of Justice."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200, unique=True, validators=[not_a_formula])
    short_name = models.CharField(max_length=50, blank=True, help_text="e.g. MoJ")
    org_identifier = models.CharField(
        "organisation identifier",
        max_length=100,
        blank=True,
        help_text="An org-id.guide identifier, e.g. GB-GOR-D18 for the Ministry of Justice.",
    )

    objects = CodedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [not_a_formula_constraint("funder", "name", "A funder's name")]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


# The forms 360Giving's Data Quality Tool accepts (lib360dataquality/cove/threesixtygiving.py,
# check_charity_number: 6 or 7 digits once two leading letters are dropped). A subsidiary's suffix
# (1106046-1) and a Northern Irish number (NIC100002) each have their own field, so neither is
# written where the tool reads a main charity number.
CHARITY_NUMBER = RegexValidator(
    r"^(\d{6,7}|SC\d{6})$",
    "A charity number is the main number of 6 or 7 digits for England and Wales (e.g. 1106046), "
    "or SC and 6 digits in Scotland (SC012345). Put a subsidiary number (the -1 of 1106046-1) in "
    "its own field, and a Northern Irish number (NIC100002) in the Northern Ireland field.",
)

CHARITY_SUBSIDIARY_NUMBER = RegexValidator(
    r"^\d{1,2}$",
    "A subsidiary number is the 1 or 2 digits after the dash (the 1 of 1106046-1).",
)

NI_CHARITY_NUMBER = RegexValidator(
    r"^NIC\d{6}$",
    "A Northern Irish charity number is NIC and 6 digits (e.g. NIC100002), as the Charity Commission "
    "for Northern Ireland writes it.",
)

# A UK postcode as 360Giving's tool recognises one (lib360dataquality postcode_re), written in
# capitals with one space before the last three characters.
POSTCODE = RegexValidator(
    r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$",
    "A postcode is written like SW1A 1AA or M1 1AE: the outward code, a space, then a digit and two letters.",
)

# A GSS code from the Office for National Statistics: a letter for the country, 8 digits.
LOCATION_CODE = RegexValidator(
    r"^[EWSNKL]\d{8}$",
    "A location code is an ONS GSS code: a letter for the country then 8 digits (e.g. E06000001 for "
    "Hartlepool, W06000015 for Cardiff).",
)

# The kind of area a GSS code names, as 360Giving's geoCodeType: capitals and digits, e.g. LAD, PFA.
GEO_CODE_TYPE = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,9}$",
    "A geography type is a short code in capitals, such as LAD (local authority district), PFA "
    "(police force area) or WD (ward).",
)

COMPANY_NUMBER = RegexValidator(
    r"^(\d{8}|[A-Z]{2}\d{6})$",
    "A company number has 8 characters as Companies House writes it, leading zeros included "
    "(e.g. 01234567 or SC123456).",
)


ORG_IDENTIFIER = RegexValidator(
    r"^[A-Z]{2}-[A-Z0-9]+-\S+$",
    "An organisation identifier is a list code and an id as on org-id.guide, e.g. GB-EDU-123456.",
)


class OrganisationQuerySet(models.QuerySet):
    def get_by_natural_key(self, name):
        return self.get(name=name)


class Organisation(Versioned):
    """A provider that receives allocations."""

    name = models.CharField(max_length=300, validators=[not_a_formula])
    short_name = models.CharField(max_length=50, blank=True, help_text="Acronym, e.g. BCWA.")
    charity_number = models.CharField(
        max_length=20,
        blank=True,
        validators=[CHARITY_NUMBER],
        help_text="The main number: 6 or 7 digits in England and Wales, or SC and 6 digits in Scotland.",
    )
    charity_subsidiary_number = models.CharField(
        max_length=2,
        blank=True,
        validators=[CHARITY_SUBSIDIARY_NUMBER],
        help_text="Only for a subsidiary charity: the digits after the dash (the 1 of 1106046-1).",
    )
    ni_charity_number = models.CharField(
        "Northern Ireland charity number",
        max_length=9,
        blank=True,
        validators=[NI_CHARITY_NUMBER],
        help_text="NIC and 6 digits, e.g. NIC100002.",
    )
    company_number = models.CharField(
        max_length=20,
        blank=True,
        validators=[COMPANY_NUMBER],
        help_text="As Companies House writes it: 8 characters, leading zeros included.",
    )
    org_identifier = models.CharField(
        "organisation identifier",
        max_length=100,
        blank=True,
        validators=[ORG_IDENTIFIER],
        help_text=(
            "An org-id.guide identifier (e.g. GB-EDU-123456) to use in open data instead of one made "
            "from the charity or company number."
        ),
    )
    contact_email = models.EmailField(
        blank=True,
        help_text="Whom the office writes to about this organisation's grants: returns due, reminders.",
    )
    registered_address = models.TextField(blank=True, help_text="As registered, without the postcode.")
    postcode = models.CharField(
        max_length=8, blank=True, validators=[POSTCODE], help_text="The registered address's postcode."
    )
    location_code = models.CharField(
        max_length=9,
        blank=True,
        validators=[LOCATION_CODE],
        help_text="Where known, the ONS code of its local authority district (e.g. E06000001).",
    )
    notes = models.TextField(blank=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="organisation_name_is_unique_ignoring_case",
                violation_error_message="An organisation with this name already exists.",
            ),
            not_a_formula_constraint("organisation", "name", "An organisation's name"),
            models.CheckConstraint(
                condition=Q(charity_subsidiary_number="") | Q(charity_number__gt=""),
                name="organisation_subsidiary_number_comes_with_a_charity_number",
                violation_error_message="A subsidiary number goes with the main number it belongs to.",
            ),
        ]

    def clean(self):
        super().clean()
        if self.charity_subsidiary_number and self.charity_number.startswith("SC"):
            raise ValidationError(
                {"charity_subsidiary_number": "Subsidiary numbers belong to charities of England and Wales."}
            )

    @property
    def full_charity_number(self) -> str:
        if self.charity_subsidiary_number:
            return f"{self.charity_number}-{self.charity_subsidiary_number}"
        return self.charity_number

    def __str__(self):
        return f"{self.name} ({self.short_name})" if self.short_name else self.name

    def natural_key(self):
        return (self.name,)


def normal_postcode(text: str) -> str:
    """A postcode as written on an envelope: capitals, one space before the inward code (sw1a1aa is
    SW1A 1AA). Text that is not a postcode is returned as it came, for the validator to name."""
    squeezed = re.sub(r"\s+", "", text).upper()
    if re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}", squeezed):
        return f"{squeezed[:-3]} {squeezed[-3:]}"
    return text.strip()
