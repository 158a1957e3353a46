"""Ledger entries, the money on a line, and the database sums over them that every figure uses."""

from __future__ import annotations

import uuid
from enum import StrEnum

from django.conf import settings
from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone

from grants import money
from grants.models._base import (
    AppendOnlyModel,
    AppendOnlyQuerySet,
    GBPMoneyField,
    decision_constraints,
    money_constraints,
)
from grants.models.funds import Fund


class LedgerEntryQuerySet(AppendOnlyQuerySet):
    def get_by_natural_key(self, entry_uuid):
        return self.get(uuid=entry_uuid)

    def awarded(self):
        """Entries that make up the amount awarded: the award and its variations."""
        return self.filter(kind__in=LedgerEntry.Kind.awarded_kinds())

    def approved(self):
        return self.filter(approved_at__isnull=False)

    def pending(self):
        """Awaiting a decision: neither approved nor rejected (or withdrawn)."""
        return self.filter(approved_at__isnull=True, rejected_at__isnull=True)

    def counted(self):
        """Approved or awaiting approval: every entry except those rejected or withdrawn."""
        return self.filter(rejected_at__isnull=True)


class Approval(StrEnum):
    """Which entries a sum counts: approved ones (what the totals and the MoJ return show), those
    awaiting approval, or both (every recorded entry except those rejected or withdrawn, which
    never count)."""

    APPROVED = "approved"
    PENDING = "pending"
    APPROVED_OR_PENDING = "approved_or_pending"


def kind_sum(kinds: list[str], entries: str = "entries", approval: Approval = Approval.APPROVED) -> Sum:
    """The database sum of the entries of `kinds` reached through `entries` (a relation path from
    the queried model; "" for LedgerEntry itself), counting approved, pending or all entries."""
    prefix = f"{entries}__" if entries else ""
    condition = Q(**{f"{prefix}kind__in": kinds}) & approval_condition(prefix, approval)
    return Sum(f"{prefix}amount", filter=condition)


def approval_condition(prefix: str, approval: Approval) -> Q:
    """The entries (reached through `prefix`, "" or ending in "__") that `approval` counts."""
    if approval is Approval.APPROVED:
        return Q(**{f"{prefix}approved_at__isnull": False})
    condition = Q(**{f"{prefix}rejected_at__isnull": True})
    if approval is Approval.PENDING:
        condition &= Q(**{f"{prefix}approved_at__isnull": True})
    return condition


def awarded_sum(entries: str = "entries", approval: Approval = Approval.APPROVED) -> Sum:
    """The amount awarded: the sum of the award and variation entries reached through `entries`."""
    return kind_sum(LedgerEntry.Kind.awarded_kinds(), entries, approval)


def counted_line_count(
    lines: str = "id", entries: str = "entries", approval: Approval = Approval.APPROVED
) -> Count:
    """How many lines have an approved award or variation: the lines the totals and the return count
    (or, with `approval`, lines with such entries awaiting approval, or recorded at all). `lines` is
    the path to the allocation's id and `entries` to its entries, from the queried model."""
    condition = Q(**{f"{entries}__kind__in": LedgerEntry.Kind.awarded_kinds()})
    condition &= approval_condition(f"{entries}__", approval)
    return Count(lines, distinct=True, filter=condition)


def has_approved_award(allocation_ref="pk"):
    """Exists() for an allocation (an OuterRef path) with an approved award or variation."""
    return models.Exists(
        LedgerEntry.objects.filter(allocation=models.OuterRef(allocation_ref)).awarded().approved()
    )


class LedgerEntry(AppendOnlyModel):
    """Money recorded against an allocation (or, for a return to the funder, against the fund).

    Never edited or deleted: a mistake is undone by a reversing entry (same kind, opposite amount,
    linked through `reverses`), and both stay visible. The one change a row ever takes is its
    approval, once, by someone other than who recorded it (the database refuses anything else).
    """

    class Kind(models.TextChoices):
        AWARD = "award", "Award"
        VARIATION = "variation", "Variation"
        PAYMENT = "payment", "Payment to provider"
        UNDERSPEND_RETURNED = "underspend_returned", "Underspend returned by provider"
        RETURNED_TO_FUNDER = "returned_to_funder", "Returned to funder"
        CARRIED_FORWARD = "carried_forward", "Carried forward"
        RECEIVED_FROM_FUNDER = "received_from_funder", "Received from funder"
        UNDERSPEND_DUE = "underspend_due", "Underspend due from provider"

        @classmethod
        def awarded_kinds(cls) -> list[str]:
            """Kinds that make a line's amount; a carry-forward's two legs move it between years."""
            return [cls.AWARD, cls.VARIATION, cls.CARRIED_FORWARD]

        @classmethod
        def referenced_kinds(cls) -> list[str]:
            """Kinds that move money and so carry a payment or remittance reference."""
            return [cls.PAYMENT, cls.UNDERSPEND_RETURNED, cls.RETURNED_TO_FUNDER, cls.RECEIVED_FROM_FUNDER]

        @classmethod
        def fund_kinds(cls) -> list[str]:
            """Kinds recorded on the fund itself (no line): money between the office and the funder."""
            return [cls.RETURNED_TO_FUNDER, cls.RECEIVED_FROM_FUNDER]

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries")
    allocation = models.ForeignKey(
        "grants.Allocation",
        on_delete=models.PROTECT,
        related_name="entries",
        null=True,
        blank=True,
        help_text="Empty only for money between the office and the funder (received or returned).",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = GBPMoneyField()
    effective_date = models.DateField(help_text="The date the award, change or payment took effect.")
    reference = models.CharField(
        max_length=100, blank=True, help_text="Payment or remittance reference, e.g. BACS-2020-0142."
    )
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        help_text="The mistaken entry this one cancels.",
    )
    carried_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="carried_to",
        help_text="On a carry-forward's in leg (1 April of the next year): its out leg (31 March).",
    )
    memo = models.TextField(help_text="Why this entry was recorded.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for entries loaded from a source document.",
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty while awaiting approval, and for decisions approved before they were loaded.",
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_outside_ledger = models.BooleanField(
        default=False,
        db_default=False,
        editable=False,
        help_text="Approved before it reached the ledger: a decision in the source document, or an "
        "entry that stood before approvals existed. Only a data load sets it.",
    )
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who rejected it, or its recorder if they withdrew it.",
    )
    rejected_at = models.DateTimeField(null=True, blank=True, editable=False)
    rejection_reason = models.TextField(blank=True, db_default="", editable=False)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["fund", "allocation", "recorded_at", "pk"]
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        permissions = [("approve_ledgerentry", "Can approve ledger entries recorded by someone else")]
        indexes = [
            # Every line's amount is a sum of its award and variations, approved or not: this index
            # answers it for a page of lines (and, on PostgreSQL, from the index alone).
            models.Index(
                fields=["allocation", "kind", "approved_at"],
                include=["amount"],
                name="entry_line_kind_approval",
            ),
            # The fund's own entries (money received from and returned to the funder) read by year
            # for its pages: a few rows found directly, however many lines the fund has.
            models.Index(
                fields=["fund", "effective_date"],
                include=["kind", "amount", "approved_at", "rejected_at"],
                condition=Q(allocation__isnull=True),
                name="entry_fund_level_by_date",
            ),
            # A fund's underspend due and returned, line by line, without reading its payments.
            models.Index(
                fields=["fund", "kind", "allocation"],
                include=["amount", "approved_at", "rejected_at"],
                name="entry_fund_kind_line",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "award",
                        "variation",
                        "payment",
                        "underspend_returned",
                        "returned_to_funder",
                        "carried_forward",
                        "received_from_funder",
                        "underspend_due",
                    ]
                ),
                name="ledger_entry_kind_is_a_known_kind",
                violation_error_message="Unknown kind of ledger entry.",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "returned_to_funder",
                        "received_from_funder",
                    ],
                    allocation__isnull=True,
                )
                | (
                    ~Q(
                        kind__in=[
                            "returned_to_funder",
                            "received_from_funder",
                        ]
                    )
                    & Q(allocation__isnull=False)
                )
                # A carry-forward moves a line's amount, or the fund's control total, between years.
                | Q(kind="carried_forward"),
                name="ledger_entry_is_on_an_allocation_unless_returned_to_funder",
                violation_error_message="Only money received from or returned to the funder, and a "
                "carry-forward of the control total, are recorded against the fund itself.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["variation", "carried_forward"])
                | Q(reverses__isnull=True, amount__gt=0)
                | Q(reverses__isnull=False, amount__lt=0),
                name="ledger_entry_is_positive_unless_a_reversal_or_variation",
                violation_error_message="The amount must be more than £0.00.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="variation") | ~Q(amount=0),
                name="ledger_entry_variation_is_not_zero",
                violation_error_message="A variation of £0.00 changes nothing.",
            ),
            models.CheckConstraint(
                condition=~Q(
                    kind__in=[
                        "payment",
                        "underspend_returned",
                        "returned_to_funder",
                        "received_from_funder",
                    ]
                )
                | ~Q(reference=""),
                name="ledger_entry_money_movement_has_a_reference",
                violation_error_message="Give the payment or remittance reference.",
            ),
            # A carry-forward is a pair (grants/triggers.py checks the in leg against its out leg).
            models.CheckConstraint(
                condition=~Q(kind="carried_forward")
                | Q(carried_from__isnull=True, reverses__isnull=True, amount__lt=0)
                | Q(carried_from__isnull=False, reverses__isnull=True, amount__gt=0),
                name="ledger_entry_carry_forward_is_an_out_leg_or_an_in_leg",
                violation_error_message="A carry-forward is an out leg (a negative amount) or an in leg "
                "(a positive amount, carried from its out leg); it is never reversed.",
            ),
            models.CheckConstraint(
                condition=Q(carried_from__isnull=True) | Q(kind="carried_forward"),
                name="ledger_entry_only_a_carry_forward_is_carried_from_another",
                violation_error_message="Only a carry-forward's in leg is carried from another entry.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="carried_forward") | ~Q(reference=""),
                name="ledger_entry_carry_forward_has_the_funders_agreement",
                violation_error_message="Give the reference of the funder's agreement to carry forward.",
            ),
            models.UniqueConstraint(
                fields=["allocation"],
                condition=Q(kind="award", reverses__isnull=True),
                name="ledger_entry_allocation_has_one_award",
                violation_error_message="This allocation already has its award; record a variation.",
            ),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(rejected_at__isnull=True),
                name="ledger_entry_is_reversed_at_most_once",
                violation_error_message="This entry has already been reversed.",
            ),
            *decision_constraints("ledger_entry", "an entry", "recorded_by", "approved_outside_ledger"),
            *money_constraints("ledger_entry", "amount"),
        ]

    def __str__(self):
        target = f"line {self.allocation_id}" if self.allocation_id else f"fund {self.fund_id}"
        return f"{self.get_kind_display()} {money.format_gbp(self.amount)} on {target}"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @property
    def is_rejected(self) -> bool:
        return self.rejected_at is not None

    @property
    def is_withdrawn(self) -> bool:
        """Rejected by its own recorder: withdrawn."""
        return self.rejected_at is not None and self.rejected_by_id == self.recorded_by_id

    @property
    def is_carry_forward_out_leg(self) -> bool:
        return self.kind == self.Kind.CARRIED_FORWARD and self.carried_from_id is None

    @property
    def is_pending(self) -> bool:
        return self.approved_at is None and self.rejected_at is None

    def natural_key(self):
        return (str(self.uuid),)

    natural_key.dependencies = ["grants.fund", "grants.allocation"]
