"""Payment schedules: a line's planned instalments, and the payment that settles each.

A schedule is planning, not money: an instalment says when the office means to pay how much, and
moves nothing. It is settled by linking a payment entry on the same line (`settled_by`); the state
is derived from that payment, so a rejected payment, or one whose reversal is approved, leaves its
instalment unsettled again without anyone editing it, and a payment awaiting approval is shown as
awaiting approval, never as paid.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Value, When

from grants import money
from grants.models._base import GBPMoneyField, Versioned, money_constraints
from grants.models.allocations import Allocation
from grants.models.entries import LedgerEntry


def _reversal_approved(entry_path: str) -> Exists:
    """Exists() for an approved reversal of the entry at `entry_path` (an OuterRef path)."""
    return Exists(LedgerEntry.objects.filter(reverses=OuterRef(entry_path), approved_at__isnull=False))


class InstalmentQuerySet(models.QuerySet):
    def for_line(self, allocation):
        return self.filter(allocation=allocation)

    def settled_live(self) -> Q:
        """Settled by a payment that still stands: recorded, not rejected or withdrawn, and no
        approved reversal of it (a reversal awaiting approval frees nothing, as for the ledger)."""
        return Q(settled_by__isnull=False, settled_by__rejected_at__isnull=True, settlement_reversed=False)

    def with_state(self):
        """Annotate `state`: planned (no payment stands against it), awaiting approval (its payment
        awaits a second person), or paid (its payment is approved)."""
        live = self.settled_live()
        return self.annotate(settlement_reversed=_reversal_approved("settled_by")).annotate(
            state=Case(
                When(live & Q(settled_by__approved_at__isnull=False), then=Value(Instalment.State.PAID)),
                When(live, then=Value(Instalment.State.AWAITING_APPROVAL)),
                default=Value(Instalment.State.PLANNED),
                output_field=models.CharField(),
            )
        )

    def not_paid(self):
        """Not settled by an approved payment that stands: planned, or awaiting approval."""
        return self.with_state().exclude(state=Instalment.State.PAID)

    def unsettled(self):
        """No payment stands against it: a payment may settle it."""
        return self.with_state().filter(state=Instalment.State.PLANNED)


class Instalment(Versioned):
    """A planned payment on a line: due on a date, of an amount, in advance (at the start of the
    period it pays for) or in arrears (at its end). Settled by at most one payment of the same line
    that stands, and a payment settles at most one instalment (the database holds both)."""

    class Timing(models.TextChoices):
        ADVANCE = "advance", "In advance"
        ARREARS = "arrears", "In arrears"

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        AWAITING_APPROVAL = "awaiting_approval", "Payment awaiting approval"
        PAID = "paid", "Paid"

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="instalments")
    due_date = models.DateField(help_text="The day the office plans to pay it.")
    amount = GBPMoneyField(help_text="Pounds and pence, more than £0.00.")
    timing = models.CharField(
        max_length=7,
        choices=Timing.choices,
        default=Timing.ARREARS,
        help_text="In advance: paid at the start of the period it funds; in arrears: at its end.",
    )
    settled_by = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="settles",
        help_text="The payment recorded against this instalment, if any; a rejected payment, or one "
        "whose reversal is approved, no longer settles it.",
    )

    objects = InstalmentQuerySet.as_manager()

    class Meta:
        ordering = ["allocation", "due_date", "pk"]
        verbose_name = "planned instalment"
        verbose_name_plural = "planned instalments"
        indexes = [
            # The dashboard's lists: instalments by due date, whichever line.
            models.Index(fields=["due_date", "allocation"], name="instalment_due_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="instalment_amount_is_more_than_nothing",
                violation_error_message="An instalment's amount must be more than £0.00.",
            ),
            models.CheckConstraint(
                condition=Q(timing__in=["advance", "arrears"]),
                name="instalment_timing_is_in_advance_or_in_arrears",
                violation_error_message="An instalment is paid in advance or in arrears.",
            ),
            *money_constraints("instalment", "amount"),
        ]

    def __str__(self):
        return f"{money.format_gbp(self.amount)} due {self.due_date:%Y-%m-%d} on line {self.allocation_id}"
