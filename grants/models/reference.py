"""Reference data lines point at: thematic areas, funding categories, funders and organisations."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
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


CHARITY_NUMBER = RegexValidator(
    r"^(\d{6,8}(-\d{1,2})?|SC\d{6}|NIC\d{6})$",
    "A charity number is 6 to 8 digits (e.g. 1106046), SC and 6 digits in Scotland (SC012345) "
    "or NIC and 6 digits in Northern Ireland (NIC100002).",
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
    charity_number = models.CharField(max_length=20, blank=True, validators=[CHARITY_NUMBER])
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
        ]

    def __str__(self):
        return f"{self.name} ({self.short_name})" if self.short_name else self.name

    def natural_key(self):
        return (self.name,)
