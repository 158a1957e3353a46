"""Provider returns: what a fund asks its providers to report (its reporting periods and measures),
and each line's completed return for a period, imported from the workbook the ledger made for it.

A **ReportingPeriod** is a quarter or a half of a financial year of the fund, with the date its
returns are due (a month after its end unless the office sets another). A **Measure** is one number
the fund asks for: spend on a cost type (staff, PPE, ...) or an output (victims supported, ...).
A measure added by mistake or no longer wanted is retired, not deleted: the returns that hold it keep
it, new workbooks leave it out. A **ProviderReturn** is one line's return for one period, with a
**ProviderReturnValue** per measure: received when imported, accepted when an approver other than
its importer accepts it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

from grants.models._base import (
    GBPMoneyField,
    Versioned,
    money_constraints,
    not_a_formula,
    not_a_formula_constraint,
)
from grants.models.allocations import Allocation
from grants.models.funds import Fund


class ReportingPeriod(Versioned):
    """A quarter or a half of one of the fund's financial years, whose returns are due on `due_date`."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="reporting_periods")
    start = models.DateField()
    end = models.DateField()
    due_date = models.DateField(help_text="When providers' returns for the period are due.")

    class Meta:
        ordering = ["fund", "start"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "start"], name="reporting_period_starts_once_per_fund"),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="reporting_period_ends_after_it_starts",
                violation_error_message="A reporting period ends after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("end")),
                name="reporting_period_is_due_on_or_after_its_end",
                violation_error_message="A return cannot be due before its period ends.",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return f"{self.start:%-d %B %Y} to {self.end:%-d %B %Y}"

    @property
    def short_label(self) -> str:
        return f"{self.start:%b %Y}-{self.end:%b %Y}"


class Measure(Versioned):
    """One number a fund asks providers for in their returns: spend on a cost type, or an output."""

    class Kind(models.TextChoices):
        SPEND = "spend", "Spend by cost type (£)"
        OUTPUT = "output", "Output (a count)"

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="measures")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100, validators=[not_a_formula])
    position = models.PositiveSmallIntegerField(default=0)
    retired_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the fund stopped asking for it: kept in returns made, left out of new workbooks.",
    )

    class Meta:
        ordering = ["fund", "kind", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "name"],
                name="measure_name_is_used_once_per_fund",
                violation_error_message="The fund already asks for a measure of that name.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["spend", "output"]),
                name="measure_kind_is_spend_or_output",
                violation_error_message="A measure is spend by cost type or an output.",
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="measure_has_a_name",
                violation_error_message="Give the measure a name.",
            ),
            not_a_formula_constraint("measure", "name", "A measure's name"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class ProviderReturnQuerySet(models.QuerySet):
    def received(self):
        return self.filter(accepted_at__isnull=True)

    def accepted(self):
        return self.filter(accepted_at__isnull=False)


class ProviderReturn(Versioned):
    """A line's return for a period, as imported from its completed workbook (the file's name and
    SHA-256 kept). Received until an approver other than whoever imported it accepts it; a return
    not yet accepted may be replaced by a corrected file."""

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="provider_returns")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="returns")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    period_spend = GBPMoneyField(help_text="The period's spend, as the provider stated its total.")
    spend_to_date = GBPMoneyField(help_text="Spend in the financial year up to the period's end.")
    explanation = models.TextField(blank=True, validators=[not_a_formula])
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = ProviderReturnQuerySet.as_manager()

    class Meta:
        ordering = ["allocation", "period__start"]
        permissions = [("accept_providerreturn", "Can accept a provider return imported by someone else")]
        constraints = [
            models.UniqueConstraint(
                fields=["allocation", "period"],
                name="provider_return_is_one_per_line_and_period",
                violation_error_message="This line already has a return for that period.",
            ),
            models.CheckConstraint(
                condition=Exact(Length("sha256"), 64),
                name="provider_return_sha256_is_64_characters",
                violation_error_message="A SHA-256 is 64 hexadecimal digits.",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True, accepted_by__isnull=True)
                | Q(accepted_at__isnull=False, accepted_by__isnull=False),
                name="provider_return_acceptance_has_who_and_when",
                violation_error_message="An acceptance names who accepted the return, and when.",
            ),
            models.CheckConstraint(
                condition=Q(accepted_by__isnull=True) | ~Q(accepted_by=F("imported_by")),
                name="provider_return_is_accepted_by_someone_else",
                violation_error_message="A return is accepted by someone other than who imported it.",
            ),
            models.CheckConstraint(
                condition=Q(period_spend__gte=0, spend_to_date__gte=0),
                name="provider_return_spend_is_not_negative",
                violation_error_message="Spend cannot be negative.",
            ),
            not_a_formula_constraint("provider_return", "explanation", "An explanation"),
            *money_constraints("provider_return", "period_spend"),
            *money_constraints("provider_return", "spend_to_date"),
        ]

    def __str__(self):
        return f"Return for line {self.allocation_id}, {self.period}"

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None


class ProviderReturnValue(models.Model):
    """One measure's figure in a return: pounds for spend, a whole number for an output."""

    provider_return = models.ForeignKey(ProviderReturn, on_delete=models.CASCADE, related_name="values")
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["provider_return", "measure__kind", "measure__position", "measure"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_return", "measure"],
                name="provider_return_value_is_one_per_measure",
                violation_error_message="A return holds one figure per measure.",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="provider_return_value_is_not_negative",
                violation_error_message="A figure in a return cannot be negative.",
            ),
        ]

    def __str__(self):
        return f"{self.measure_id}: {self.value}"
