"""A fund's lines (allocations), with their figures as QuerySet annotations, and the proposed
changes to a line's provider, service, category or area."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from grants import money
from grants.models._base import Versioned, decision_constraints, not_a_formula, not_a_formula_constraint
from grants.models.entries import Approval, LedgerEntry, awarded_sum, kind_sum
from grants.models.funds import Fund
from grants.models.reference import FundingCategory, Organisation, ThematicArea


class AllocationQuerySet(models.QuerySet):
    def get_by_natural_key(self, fund_code, line_number):
        return self.get(fund__code=fund_code, line_number=line_number)

    def for_fund(self, fund):
        return self.filter(fund=fund)

    def with_awarded(self, approval: Approval = Approval.APPROVED):
        """Annotate `awarded` (Decimal): the sum of the approved award and its approved variations
        (or of those awaiting approval, or of all recorded)."""
        return self.annotate(awarded=_decimal_or_zero(awarded_sum(approval=approval)))

    def with_stored_figures(self):
        """The same annotations as `with_summed_figures()`, read from each line's stored figures
        (`grants.figures`) instead of summed from its entries: what the pages sort, filter and page
        through without touching the entries."""
        return self.annotate(
            awarded=F("figures__awarded"),
            awarded_pending=F("figures__awarded_pending"),
            paid=F("figures__paid"),
            returned=F("figures__returned"),
        ).annotate(
            net_funding=F("paid") - F("returned"),
            still_to_pay=F("awarded") - F("paid"),
        )

    def with_pending_money(self):
        """Annotate, beside `with_stored_figures()`, the payments and returned underspend awaiting
        approval (`paid_pending`, `returned_pending`) and those approved (`paid_approved`,
        `returned_approved`), in the same query: `paid` and `returned` count entries awaiting
        approval at once (the safer direction for what is still to pay), which a page must not call
        paid. Summed from the line's stored figures by year, a row per year it has entries in."""
        from grants.figures.models import LineYearFigures

        def pending(column: str):
            rows = LineYearFigures.objects.filter(allocation=OuterRef("pk")).order_by().values("allocation")
            return _decimal_or_zero(Subquery(rows.annotate(total=Sum(column)).values("total")))

        return self.annotate(
            paid_pending=pending("paid_pending"), returned_pending=pending("returned_pending")
        ).annotate(
            paid_approved=F("paid") - F("paid_pending"),
            returned_approved=F("returned") - F("returned_pending"),
        )

    def with_summed_figures(self):
        """Annotate each line's money, in the one query that fetches the lines (README, "Figures"):

        - `awarded`: approved award and variations; `awarded_pending`: those awaiting approval;
        - `paid`: payments to the provider; `returned`: underspend the provider sent back;
        - `net_funding` = paid - returned; `still_to_pay` = awarded - paid.

        Payments and returns count once recorded, approved or not (unless rejected or withdrawn),
        so that money already on its way is never paid twice.
        """
        kinds = LedgerEntry.Kind
        return self.annotate(
            awarded=_decimal_or_zero(awarded_sum()),
            awarded_pending=_decimal_or_zero(awarded_sum(approval=Approval.PENDING)),
            paid=_decimal_or_zero(kind_sum([kinds.PAYMENT], approval=Approval.APPROVED_OR_PENDING)),
            returned=_decimal_or_zero(
                kind_sum([kinds.UNDERSPEND_RETURNED], approval=Approval.APPROVED_OR_PENDING)
            ),
        ).annotate(
            net_funding=F("paid") - F("returned"),
            still_to_pay=F("awarded") - F("paid"),
        )


def _decimal_or_zero(expression):
    return Coalesce(
        expression,
        Value(money.zero().amount),
        output_field=models.DecimalField(max_digits=14, decimal_places=2),
    )


class Allocation(Versioned):
    """One line of a fund's allocation table. Its amount is the sum of its ledger entries."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="allocations")
    line_number = models.PositiveIntegerField(help_text="The line's number in the source table.")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="allocations")
    service = models.CharField(
        max_length=200,
        blank=True,
        validators=[not_a_formula],
        help_text='Optional, e.g. "Sexual Violence Service".',
    )
    thematic_area = models.ForeignKey(ThematicArea, on_delete=models.PROTECT, related_name="+")
    funding_category = models.ForeignKey(FundingCategory, on_delete=models.PROTECT, related_name="+")
    source_text = models.CharField(
        "as printed in the source",
        max_length=400,
        blank=True,
        help_text="The organisation cell exactly as the source document printed it.",
    )
    notes = models.TextField(blank=True)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        ordering = ["fund", "line_number"]
        indexes = [
            # The fund page's table filtered by category, and its count, read only the fund's lines.
            models.Index(fields=["fund", "funding_category"], name="allocation_fund_category"),
            # The all-allocations table in its default order (line number, then fund): each number
            # is shared by a few hundred funds at most, so the first page is read from here.
            models.Index(fields=["line_number"], name="allocation_line_number"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "line_number"],
                name="allocation_line_number_is_unique_within_its_fund",
                violation_error_message="This fund already has a line with that number.",
            ),
            # One organisation may hold several lines in a fund (published tables list a provider
            # once under sexual violence and again under domestic abuse, naming no service), but a
            # line typed twice is refused.
            models.UniqueConstraint(
                fields=["fund", "organisation", "service", "thematic_area", "funding_category"],
                name="allocation_organisation_service_area_category_is_unique_in_fund",
                violation_error_message=(
                    "This fund already has a line for that organisation and service in that thematic "
                    "area and funding category."
                ),
            ),
            models.CheckConstraint(
                condition=Q(line_number__gt=0),
                name="allocation_line_number_is_positive",
                violation_error_message="Line numbers start at 1.",
            ),
            not_a_formula_constraint("allocation", "service", "A service"),
        ]

    def __str__(self):
        label = f"{self.organisation.name} {self.service}".strip()
        return f"{self.fund.code} line {self.line_number}: {label}"

    def natural_key(self):
        return (self.fund.code, self.line_number)

    natural_key.dependencies = ["grants.fund", "grants.organisation"]


class LineChangeQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(approved_at__isnull=True, rejected_at__isnull=True)


class LineChange(models.Model):
    """A change of a line's provider, service, funding category or thematic area, proposed on a
    line that already has approved money. It takes effect only when someone other than its
    proposer approves it; until then the line, and every figure and export, shows the line as it
    was. Rejected or withdrawn (rejected by its proposer), it stays on record and changes nothing.

    Rows are never deleted, and once written change only once: approved, or rejected.
    """

    CONTROLLED_FIELDS = ("organisation", "service", "thematic_area", "funding_category")

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="changes")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="line_changes")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    service = models.CharField(max_length=200, blank=True, validators=[not_a_formula])
    thematic_area = models.ForeignKey(ThematicArea, on_delete=models.PROTECT, related_name="+")
    funding_category = models.ForeignKey(FundingCategory, on_delete=models.PROTECT, related_name="+")
    was_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    was_service = models.CharField(max_length=200, blank=True, validators=[not_a_formula])
    was_thematic_area = models.ForeignKey(ThematicArea, on_delete=models.PROTECT, related_name="+")
    was_funding_category = models.ForeignKey(FundingCategory, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(help_text="Why the line should change, e.g. the provider's letter of 3 May.")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who rejected it, or its proposer if they withdrew it.",
    )
    rejected_at = models.DateTimeField(null=True, blank=True, editable=False)
    rejection_reason = models.TextField(blank=True, db_default="", editable=False)

    objects = LineChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = "proposed change to a line"
        verbose_name_plural = "proposed changes to lines"
        permissions = [
            ("approve_linechange", "Can approve or reject changes to lines proposed by someone else")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["allocation"],
                condition=Q(approved_at__isnull=True, rejected_at__isnull=True),
                name="line_change_one_awaits_approval_per_line",
                violation_error_message="A change to this line already awaits approval.",
            ),
            models.CheckConstraint(
                condition=~Q(
                    organisation=F("was_organisation"),
                    service=F("was_service"),
                    thematic_area=F("was_thematic_area"),
                    funding_category=F("was_funding_category"),
                ),
                name="line_change_changes_something",
                violation_error_message="The proposed change leaves the line as it is.",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="line_change_gives_a_reason",
                violation_error_message="Say why the line should change.",
            ),
            *decision_constraints("line_change", "a proposed change", "proposed_by"),
            not_a_formula_constraint("line_change", "service", "A service"),
            not_a_formula_constraint("line_change", "was_service", "A service"),
        ]

    def __str__(self):
        return f"Change to line {self.allocation_id} proposed {self.proposed_at:%Y-%m-%d}"

    @property
    def is_pending(self) -> bool:
        return self.approved_at is None and self.rejected_at is None

    @property
    def is_withdrawn(self) -> bool:
        return self.rejected_at is not None and self.rejected_by_id == self.proposed_by_id

    @property
    def changes_payee(self) -> bool:
        return self.organisation_id != self.was_organisation_id

    def differences(self) -> list[tuple[str, object, object]]:
        """(field's label, as the line was, as proposed) for each field the change alters."""
        return [
            (Allocation._meta.get_field(name).verbose_name, getattr(self, f"was_{name}"), getattr(self, name))
            for name in self.CONTROLLED_FIELDS
            if getattr(self, f"was_{name}") != getattr(self, name)
        ]
