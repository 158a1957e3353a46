"""Reads for the Approvals page and a line's entries: what awaits a decision, and what was decided."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Concat

from audit.models import AuditEvent
from grants.imports import import_memo
from grants.models import (
    Allocation,
    ImportRecord,
    LedgerEntry,
    LineChange,
)

LINE_CHANGE_RELATIONS = (
    "fund",
    "allocation__organisation",
    "organisation",
    "was_organisation",
    "thematic_area",
    "was_thematic_area",
    "funding_category",
    "was_funding_category",
    "proposed_by",
    "approved_by",
    "rejected_by",
)


def pending_entries() -> QuerySet[LedgerEntry]:
    """Entries awaiting approval, oldest first, with what the approvals page shows of them. A
    carry-forward is one decision: its in leg stands for the pair, with its out leg
    (`carried_from`), and the out leg is not listed on its own."""
    return (
        LedgerEntry.objects.pending()
        .exclude(kind=LedgerEntry.Kind.CARRIED_FORWARD, carried_from__isnull=True, carried_to__isnull=False)
        .select_related("fund", "allocation__organisation", "recorded_by", "reverses", "carried_from")
        .order_by("recorded_at", "pk")
    )


def pending_line_changes() -> QuerySet[LineChange]:
    """Proposed changes to lines awaiting approval, oldest first, with what their pages show."""
    return LineChange.objects.pending().select_related(*LINE_CHANGE_RELATIONS).order_by("proposed_at", "pk")


def awaiting_decision_count(user) -> int:
    """How many entries and changes to lines await `user`'s decision: those awaiting approval that
    someone else recorded or proposed (no one approves their own). One query, whatever their number:
    each is counted in a subquery, read beside the user's own row."""

    def counted(rows: QuerySet) -> Coalesce:
        counts = rows.order_by().annotate(one=Value(1)).values("one").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counts), 0)

    entries = pending_entries().exclude(recorded_by=user)
    changes = LineChange.objects.pending().exclude(proposed_by=user)
    counts = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(entries=counted(entries), changes=counted(changes))
        .values_list("entries", "changes")
        .first()
    )
    return sum(counts) if counts else 0


def line_changes(allocation: Allocation) -> list[LineChange]:
    """Every change proposed to the line, newest first: awaiting approval, approved, rejected or
    withdrawn."""
    return list(allocation.changes.select_related(*LINE_CHANGE_RELATIONS).order_by("-proposed_at", "-pk"))


@dataclass(frozen=True)
class PendingImport:
    """An import whose entries await approval: approved or rejected together."""

    record: ImportRecord
    pending: int


def import_entries(record: ImportRecord) -> QuerySet[LedgerEntry]:
    """The entries an import recorded (its memo names the file and its SHA-256)."""
    return LedgerEntry.objects.filter(fund=record.fund_id, memo=import_memo(record.file_name, record.sha256))


def imports_awaiting_approval() -> list[PendingImport]:
    """Imports with entries awaiting approval, oldest first, with how many (one query)."""
    memo = Concat(Value("Imported from "), "file_name", Value(" (SHA-256 "), "sha256", Value(")"))
    waiting = (
        LedgerEntry.objects.pending()
        .filter(fund=OuterRef("fund"), memo=OuterRef("memo"))
        .order_by()
        .values("fund")
        .annotate(count=Count("pk"))
        .values("count")
    )
    records = (
        ImportRecord.objects.annotate(memo=memo, pending=Subquery(waiting))
        .filter(pending__gt=0)
        .select_related("fund", "imported_by")
        .order_by("imported_at", "pk")
    )
    return [PendingImport(record=record, pending=record.pending) for record in records]


def allocation_entries(allocation: Allocation) -> QuerySet[LedgerEntry]:
    return with_loaded_at(
        with_reversal_state(
            allocation.entries.select_related("recorded_by", "approved_by", "rejected_by", "reverses")
        )
    ).order_by("recorded_at", "pk")


def fund_own_entries(fund) -> QuerySet[LedgerEntry]:
    """The entries held on the fund itself, on no line (money received from and returned to the
    funder), by date: one query over the few rows the partial index `entry_fund_level_by_date`
    holds for the fund, however many lines it has."""
    return with_loaded_at(
        with_reversal_state(
            LedgerEntry.objects.filter(fund=fund, allocation__isnull=True).select_related(
                "recorded_by", "approved_by", "rejected_by", "reverses"
            )
        )
    ).order_by("effective_date", "recorded_at", "pk")


def with_loaded_at(entries: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    """Annotate `loaded_at`: when the database took the entry in, as the audit trail's insert says.
    An entry loaded from a source document (the seed's fixture) carries the `recorded_at` its file
    gives, not the day it was loaded; the pages say when it was loaded from this instead."""
    inserted = AuditEvent.objects.filter(
        table_name=LedgerEntry._meta.db_table, row_id=OuterRef("pk"), action=AuditEvent.Action.INSERT
    ).order_by("occurred_at", "id")
    return entries.annotate(loaded_at=Subquery(inserted.values("occurred_at")[:1]))


def with_reversal_state(entries: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    """Annotate `is_reversed`: a reversal of the entry is recorded (approved or awaiting approval)."""
    return entries.annotate(is_reversed=Exists(LedgerEntry.objects.filter(reverses=OuterRef("pk")).counted()))
