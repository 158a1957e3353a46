"""Spreadsheet imports: the record of one applied, and an uploaded file awaiting its confirmation."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

from grants.models._base import AppendOnlyModel, AppendOnlyQuerySet
from grants.models.funds import Fund


class ImportRecord(AppendOnlyModel):
    """A spreadsheet applied to a fund: which file (its name and SHA-256), who, when, what it changed.

    Written in the same transaction as the lines it added and the variations it recorded. An import
    that would change nothing (the same file again) writes nothing, this record included.
    """

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="imports")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, help_text="Of the file's bytes, in hex.")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for an import run from the command line without --user.",
    )
    imported_at = models.DateTimeField(default=timezone.now, editable=False)
    lines_added = models.PositiveIntegerField()
    amounts_changed = models.PositiveIntegerField()
    lines_unchanged = models.PositiveIntegerField()
    organisations_created = models.PositiveIntegerField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["fund", "-imported_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("sha256"), 64),
                name="import_record_sha256_is_64_characters",
                violation_error_message="A SHA-256 is 64 hexadecimal digits.",
            ),
        ]

    def __str__(self):
        return f"{self.file_name} into {self.fund.code} at {self.imported_at:%Y-%m-%d %H:%M}"


class PendingImport(models.Model):
    """An uploaded file waiting for its preview to be confirmed; not ledger data.

    The web preview cannot hand a file back to the browser without JavaScript, so the bytes wait here,
    visible only to who uploaded them, and are re-read and re-checked against the ledger on confirming.
    Removed when applied, and a day after upload.
    """

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    content = models.BinaryField()
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.file_name} for {self.fund_id}, waiting"
