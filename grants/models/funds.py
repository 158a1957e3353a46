"""A fund, the revisions of its control total, its ring-fenced category budgets and its submitted
MoJ returns."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce, Length
from django.db.models.lookups import Exact, GreaterThan
from django.utils import timezone

from grants import money, years
from grants.models._base import (
    AppendOnlyModel,
    AppendOnlyQuerySet,
    CodedQuerySet,
    GBPMoneyField,
    Versioned,
    money_constraints,
    not_a_formula,
    not_a_formula_constraint,
)
from grants.models.reference import GEO_CODE_TYPE, LOCATION_CODE, Funder, FundingCategory


class FundQuerySet(CodedQuerySet):
    def with_ledger_total(self):
        """Annotate `ledger_total` (a Decimal, zero when the fund has no entries) in one query: the
        approved awards and variations, added up from the stored figures of the fund's few groups
        of lines (grants/figures/) rather than from its entries."""
        # Imported here: grants.figures registers its models after these (grants/models/__init__.py).
        from grants.figures import GroupFigures

        groups = (
            GroupFigures.objects.filter(fund=models.OuterRef("pk"))
            .order_by()
            .values("fund")
            .annotate(total=Sum("awarded"))
            .values("total")
        )
        return self.annotate(
            ledger_total=Coalesce(
                models.Subquery(groups),
                Value(money.zero().amount),
                output_field=models.DecimalField(max_digits=14, decimal_places=2),
            )
        )


BENEFICIARY_LOCATION_INCOMPLETE = (
    "A beneficiary location's code needs its name and its geography type, and a geography type its code: "
    "give all three, a name alone, or leave all three blank for the office's police force area."
)


class Fund(Versioned):
    """A grant the office receives from a funder, with the control total on its award paperwork."""

    code = models.SlugField(max_length=50, unique=True, help_text="Short stable code, e.g. moj-ecf-2020.")
    name = models.CharField(max_length=300, validators=[not_a_formula])
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="funds")
    spend_start = models.DateField("spend period start")
    spend_end = models.DateField("spend period end")
    control_total = GBPMoneyField(
        help_text="The amount on the funder's award paperwork. Changes are kept in the fund's history."
    )
    notes = models.TextField(blank=True)
    # Publication facts: open data and the statutory grants register. Text, not money, so a finance
    # officer changes them alone, the audit trail keeping each change, and they stay correctable
    # while the fund's return is submitted (the return's workbook does not carry them).
    data_source_url = models.URLField(
        "data source",
        blank=True,
        help_text="A web page where the figures come from (e.g. the board report). Blank: the office's "
        "own page for open data (LEDGER_DATA_SOURCE_DEFAULT).",
    )
    register_purpose = models.TextField(
        "purpose (register default)",
        blank=True,
        validators=[not_a_formula],
        help_text="What the grants are for, for every line that does not say otherwise.",
    )
    register_conditions = models.TextField(
        "conditions (register default)",
        blank=True,
        validators=[not_a_formula],
        help_text="The conditions attached to the grants, for every line that does not say otherwise.",
    )
    register_crime_reduction = models.TextField(
        "why it reduces crime and disorder (register default)",
        blank=True,
        validators=[not_a_formula],
        help_text="Why the office expects the grants to reduce crime and disorder.",
    )
    # Where the fund's beneficiaries are, for 360Giving's beneficiaryLocation. Blank: the office's
    # police force area from settings (LEDGER_BENEFICIARY_LOCATION_*), as most funds serve it all.
    beneficiary_location_name = models.CharField(
        "beneficiary location",
        max_length=200,
        blank=True,
        validators=[not_a_formula],
        help_text="Where the fund's beneficiaries are, e.g. Coventry. Blank: the office's police force area.",
    )
    beneficiary_location_code = models.CharField(
        "beneficiary location code",
        max_length=9,
        blank=True,
        validators=[LOCATION_CODE],
        help_text="Its ONS GSS code, e.g. E08000026 for Coventry.",
    )
    beneficiary_location_code_type = models.CharField(
        "beneficiary location geography type",
        max_length=10,
        blank=True,
        validators=[GEO_CODE_TYPE],
        help_text="The kind of area the code names, e.g. LAD for a local authority district, PFA for a "
        "police force area.",
    )
    is_published = models.BooleanField(
        "published",
        default=False,
        db_default=False,
        help_text="Show the fund's public page: its grants register and approved grants, without a login.",
    )

    objects = FundQuerySet.as_manager()

    class Meta:
        ordering = ["-spend_start", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(spend_start__lte=F("spend_end")),
                name="fund_spend_period_starts_on_or_before_it_ends",
                violation_error_message="The spend period must start on or before the day it ends.",
            ),
            models.CheckConstraint(
                condition=Q(control_total__gt=0),
                name="fund_control_total_is_positive",
                violation_error_message="The control total must be more than £0.00.",
            ),
            *money_constraints("fund", "control_total"),
            not_a_formula_constraint("fund", "name", "A fund's name"),
            not_a_formula_constraint("fund", "register_purpose", "A purpose"),
            not_a_formula_constraint("fund", "register_conditions", "Conditions"),
            not_a_formula_constraint("fund", "register_crime_reduction", "A reason"),
            not_a_formula_constraint("fund", "beneficiary_location_name", "A beneficiary location"),
            models.CheckConstraint(
                # Lengths, not comparisons with '': Django's SQLite introspection (sqlparse) misreads
                # the table's SQL when an empty string follows the formula checks' ESCAPE '\'.
                condition=Q(
                    Exact(Length("beneficiary_location_code"), 0),
                    Exact(Length("beneficiary_location_code_type"), 0),
                )
                | Q(
                    GreaterThan(Length("beneficiary_location_name"), 0),
                    GreaterThan(Length("beneficiary_location_code"), 0),
                    GreaterThan(Length("beneficiary_location_code_type"), 0),
                ),
                name="fund_beneficiary_location_code_comes_with_its_name_and_type",
                violation_error_message=BENEFICIARY_LOCATION_INCOMPLETE,
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def natural_key(self):
        return (self.code,)


class FundYear(Versioned):
    """One financial year of a fund's spend period and the funder's control total for it: together,
    the fund's profile. A fund with a profile has a control total equal to the sum of its years (the
    profile's service keeps them so, and keeps each change as a `ControlTotalRevision` naming the
    year); a fund without one has a single figure, as the seed fund does."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="years")
    year = models.PositiveSmallIntegerField(
        help_text="The calendar year the financial year starts in: 2023 is 2023-24 (1 April 2023 to 31 March "
        "2024)."
    )
    control_total = GBPMoneyField(help_text="The funder's amount for this year, on its award paperwork.")

    class Meta:
        ordering = ["fund", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "year"],
                name="fund_year_is_unique_within_its_fund",
                violation_error_message="This fund already has a figure for that financial year.",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=years.FIRST_YEAR, year__lte=years.LAST_YEAR),
                name="fund_year_is_a_year_the_ledger_holds",
                violation_error_message=(
                    f"A financial year starts between {years.FIRST_YEAR} and {years.LAST_YEAR}."
                ),
            ),
            models.CheckConstraint(
                condition=Q(control_total__gte=0),
                name="fund_year_control_total_is_not_negative",
                violation_error_message="A year's control total cannot be less than £0.00.",
            ),
            *money_constraints("fund_year", "control_total"),
        ]

    @property
    def financial_year(self) -> years.FinancialYear:
        return years.FinancialYear(self.year)

    def __str__(self):
        return f"{self.fund.code} {self.financial_year.label}: {money.format_gbp(self.control_total)}"


class ControlTotalRevision(AppendOnlyModel):
    """A change to a fund's control total, e.g. after a revised award letter, or to one year's figure
    of its profile (`year` says which; empty for the fund's total)."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="control_total_revisions")
    year = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="The financial year whose figure changed (2023 is 2023-24); empty for the fund's total.",
    )
    previous_amount = GBPMoneyField()
    new_amount = GBPMoneyField()
    memo = models.TextField(help_text="Why it changed, e.g. the revised award letter's date.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["fund", "recorded_at", "pk"]
        constraints = [
            *money_constraints("control_total_revision", "previous_amount"),
            *money_constraints("control_total_revision", "new_amount"),
        ]

    def __str__(self):
        return (
            f"{self.fund.code}: {money.format_gbp(self.previous_amount)} to "
            f"{money.format_gbp(self.new_amount)}"
        )


class CategoryBudget(Versioned):
    """Part of a fund ring-fenced for one funding category."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="category_budgets")
    funding_category = models.ForeignKey(FundingCategory, on_delete=models.PROTECT, related_name="+")
    amount = GBPMoneyField()

    class Meta:
        ordering = ["fund", "funding_category__sort_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "funding_category"],
                name="category_budget_is_set_once_per_fund_and_category",
                violation_error_message="This fund already has a budget for that category.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="category_budget_amount_is_positive",
                violation_error_message="A category budget must be more than £0.00.",
            ),
            *money_constraints("category_budget", "amount"),
        ]

    def __str__(self):
        return f"{self.fund.code} {self.funding_category}: {money.format_gbp(self.amount)}"


class ReturnSubmissionQuerySet(models.QuerySet):
    def in_force(self):
        """Submissions that lock their fund: not reopened."""
        return self.filter(reopened_at__isnull=True)


class ReturnSubmission(models.Model):
    """A fund's MoJ return as sent: the exact workbook, its SHA-256, who sent it and when.

    While a submission is in force its fund's allocations and entries are locked. An approver may
    reopen the fund with a reason; the next submission is a new version, and every version's bytes
    stay downloadable. Rows are never deleted, and the database lets a row change only once: from
    in force to reopened.
    """

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="submissions")
    version = models.PositiveIntegerField()
    file_name = models.CharField(max_length=200)
    workbook = models.BinaryField(editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now, editable=False)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True, editable=False)
    reopen_reason = models.TextField(blank=True)
    # The whole fund's variance (ledger total minus control total) when it was submitted. Not zero
    # only when the approver ticked that they were submitting it with that variance, to the penny.
    variance = GBPMoneyField(default=0, editable=False)

    objects = ReturnSubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["fund", "-version"]
        permissions = [("reopen_returnsubmission", "Can reopen a fund whose return was submitted")]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "version"],
                name="return_submission_version_is_unique_per_fund",
                violation_error_message="This fund already has a submission with that version.",
            ),
            models.UniqueConstraint(
                fields=["fund"],
                condition=Q(reopened_at__isnull=True),
                name="return_submission_one_in_force_per_fund",
                violation_error_message="This fund's return is already submitted; reopen it first.",
            ),
            models.CheckConstraint(
                condition=Q(version__gt=0),
                name="return_submission_version_is_positive",
                violation_error_message="Versions start at 1.",
            ),
            models.CheckConstraint(
                condition=Q(reopened_at__isnull=True, reopened_by__isnull=True, reopen_reason="")
                | (Q(reopened_at__isnull=False, reopened_by__isnull=False) & ~Q(reopen_reason="")),
                name="return_submission_reopening_has_who_when_and_why",
                violation_error_message="Reopening a fund needs who, when and why.",
            ),
            *money_constraints("return_submission", "variance"),
        ]

    def __str__(self):
        return f"{self.fund.code} return, version {self.version}"

    @property
    def in_force(self) -> bool:
        return self.reopened_at is None

    @property
    def variance_confirmed(self) -> str:
        """What the approver confirmed when submitting a return that did not reconcile, or ""."""
        return "" if self.variance.amount == 0 else f"Submitted {money.format_variance(self.variance)}"
