"""The audit event: one row inserted, changed or deleted in an audited table, written by a trigger.

The table keeps the name it was created with in the grants app (`grants_auditevent`): the model
moved to this app in state only (audit 0001, grants 0020), and every trigger names the table.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from audit.tables import AUDIT_TABLE, AUDITED_TABLES


class DecimalJSONDecoder(json.JSONDecoder):
    """Reads numbers with a decimal point as `Decimal`, so amounts come back to the penny."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parse_float", Decimal)
        super().__init__(*args, **kwargs)


class AuditEvent(models.Model):
    """One row inserted, changed or deleted in an audited table, written by a database trigger."""

    class Action(models.TextChoices):
        INSERT = "insert", "Added"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"

    occurred_at = models.DateTimeField(editable=False, help_text="The database's clock.")
    table_name = models.CharField(
        max_length=63, editable=False, choices=[(table, spec.label) for table, spec in AUDITED_TABLES.items()]
    )
    row_id = models.BigIntegerField(editable=False)
    action = models.CharField(max_length=6, choices=Action.choices, editable=False)
    before = models.JSONField(null=True, editable=False, decoder=DecimalJSONDecoder)
    after = models.JSONField(null=True, editable=False, decoder=DecimalJSONDecoder)
    # Plain ids, not foreign keys: history outlives the rows (and users) it describes.
    fund_id = models.BigIntegerField(null=True, editable=False)
    allocation_id = models.BigIntegerField(null=True, editable=False)
    actor_id = models.BigIntegerField(null=True, editable=False)
    actor_username = models.CharField(max_length=150, blank=True, editable=False)
    reason = models.TextField(blank=True, editable=False)
    db_user = models.CharField("database user", max_length=63, blank=True, editable=False)
    # Written by the trigger from the connection itself, so a client that claims another actor
    # (set_config('ledger.actor_id', ...)) still leaves its real login and address. On SQLite there
    # is no login: 'sqlite', and no address.
    db_session_user = models.CharField(
        "database login",
        max_length=63,
        blank=True,
        editable=False,
        help_text="The database user the connection logged in as (PostgreSQL's session_user), "
        "which SET ROLE does not change.",
    )
    client_address = models.GenericIPAddressField(
        null=True,
        editable=False,
        help_text="The address the database connection came from; empty over a local socket, and on SQLite.",
    )

    class Meta:
        db_table = AUDIT_TABLE
        ordering = ["-occurred_at", "-id"]
        default_permissions = ("view",)
        verbose_name = "audit event"
        indexes = [
            models.Index(fields=["table_name", "row_id"], name="audit_event_row_idx"),
            models.Index(fields=["fund_id"], name="audit_event_fund_idx"),
            models.Index(fields=["allocation_id"], name="audit_event_allocation_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.table_name} {self.row_id}"

    def save(self, *args, **kwargs):
        raise ValidationError("Audit events are written by the database's triggers only.")

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit events are never deleted.")
