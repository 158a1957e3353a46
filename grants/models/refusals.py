"""Changes a service refused, kept so the audit trail names who tried."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from grants.models._base import AppendOnlyModel, AppendOnlyQuerySet


class RefusedAttempt(AppendOnlyModel):
    """A change a service refused: who tried what, on which row, and why it was refused.

    Written after the refused change is rolled back, in a transaction of its own, so the audit trail
    (which records this row like any other) names who tried even though nothing changed.
    """

    attempted_at = models.DateTimeField(default=timezone.now, editable=False)
    attempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for a command run without --user.",
    )
    action = models.CharField(max_length=100, help_text="The service that refused, e.g. payment_record.")
    target = models.CharField(max_length=200, blank=True, help_text="What it was asked to change.")
    # Plain ids, as in the audit trail: the record outlives the rows it names.
    fund_id = models.BigIntegerField(null=True, blank=True)
    allocation_id = models.BigIntegerField(null=True, blank=True)
    message = models.TextField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-attempted_at", "-pk"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["fund_id"], name="refused_attempt_fund_idx")]

    def __str__(self):
        return f"{self.action} refused at {self.attempted_at:%Y-%m-%d %H:%M}"
