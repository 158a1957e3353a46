"""Spreadsheet imports: the record of one applied, an uploaded file awaiting its confirmation, and
what an office's table text was mapped to for a fund."""

from __future__ import annotations

import unicodedata
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

from grants.models._base import AppendOnlyModel, AppendOnlyQuerySet
from grants.models.funds import Fund
from grants.models.reference import FundingCategory, ThematicArea


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


def value_key(text: str) -> str:
    """The text as imports compare it, ignoring case, spacing and punctuation: a copy of
    `grants.imports.reading.normalise`, which the models do not import (a test keeps them in step)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(character for character in folded if character.isalnum())


class ImportValueMapping(models.Model):
    """A text an office's allocation table uses for a funding category or thematic area (in a category
    column or a section row such as "Sexual Violence Support"), mapped once per fund by whoever imported
    the table, so the next import of that office's table needs no mapping.

    Written by the import that asked for the mapping; deleted in the admin (unless the fund's return
    is submitted) when it was wrong, so that the next import asks again.
    """

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="import_value_mappings")
    text = models.CharField(max_length=300, help_text="As the file printed it, the first time.")
    text_key = models.CharField(
        max_length=300, help_text="The text ignoring case, spacing and punctuation (`value_key`)."
    )
    funding_category = models.ForeignKey(
        FundingCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    thematic_area = models.ForeignKey(
        ThematicArea, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    mapped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for an import run from the command line without --user.",
    )
    mapped_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["fund", "text"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "text_key"],
                name="import_value_mapping_text_is_mapped_once_per_fund",
                violation_error_message="This fund already has a mapping for that text.",
            ),
            models.CheckConstraint(
                condition=Q(funding_category__isnull=False) | Q(thematic_area__isnull=False),
                name="import_value_mapping_names_a_category_or_an_area",
                violation_error_message=(
                    'A mapping names a funding category, a thematic area or both (as "Sexual Violence" '
                    "names each), never neither."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(text_key=""),
                name="import_value_mapping_text_has_a_letter_or_digit",
                violation_error_message="The text to map must hold a letter or a digit.",
            ),
        ]

    def __str__(self):
        meanings = []
        if self.thematic_area_id is not None:
            meanings.append(f"thematic area {self.thematic_area}")
        if self.funding_category_id is not None:
            meanings.append(f"funding category {self.funding_category}")
        return f'"{self.text}" is {" and ".join(meanings)}'
