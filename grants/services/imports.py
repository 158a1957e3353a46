"""Applying a spreadsheet to a fund through the batch services (`allocations_import`), and keeping an
uploaded file until its preview is confirmed."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.context import context as audit_context
from grants import money
from grants.imports import ImportRefused, Problem, import_memo
from grants.imports.planning import ImportPlan, PlanLine, build_plan
from grants.imports.reading import Mapping, read_workbook
from grants.imports.snapshot import import_snapshot
from grants.models import Allocation, Fund, ImportRecord, ImportValueMapping, Organisation, PendingImport
from grants.models.imports import value_key
from grants.services._base import OptionalUser, _lock_open_fund, _refusals_recorded, _user_or_none, importing
from grants.services._batch import RowsRefused
from grants.services.allocations import AmountChange, NewLine, allocation_amounts_set, allocations_create
from grants.services.organisations import organisations_create


class ImportPlanChanged(ImportRefused):
    """The ledger (or the file) changed between the preview and the confirmation."""


@dataclass(frozen=True)
class ImportResult:
    plan: ImportPlan
    record: ImportRecord | None  # None when the file changed nothing
    previous: ImportRecord | None  # an earlier import of the same file into this fund, if any


@_refusals_recorded
def allocations_import(
    *,
    fund: Fund,
    file_name: str,
    content: bytes,
    acting_user: OptionalUser,
    expected_digest: str | None = None,
    mapping: Mapping | None = None,
) -> ImportResult:
    """Apply a spreadsheet to a fund: all of it in one transaction, or nothing.

    The file is read first (outside the transaction: reading a large file takes a while); then, with
    the fund locked, it is planned against the ledger as it is now, and refused if that plan has any
    problem or, when `expected_digest` is given, differs from the one the person previewed. New
    organisations, new lines and changed amounts go through `organisations_create`, `allocations_create`
    and `allocation_amounts_set` (the services behind the forms' `organisation_create`,
    `allocation_create` and `allocation_set_amount`), each entry's memo naming the file and its
    SHA-256; an `ImportRecord` says who imported what. A file that would change nothing writes nothing.
    """
    file_name = file_name.strip()[:255] or "upload.xlsx"
    sheet = read_workbook(content, file_name, mapping)
    with (
        transaction.atomic(),
        audit_context(user=_user_or_none(acting_user), reason=import_memo(file_name, sheet.sha256)),
    ):
        try:
            locked = _lock_open_fund(fund.pk)
        except ValidationError as error:
            raise ImportRefused([Problem(message) for message in error.messages]) from error
        plan = build_plan(locked, sheet, import_snapshot(locked, by_year=sheet.by_year), mapping)
        if plan.problems:
            raise ImportRefused(plan.problems)
        if expected_digest is not None and plan.digest != expected_digest:
            raise ImportPlanChanged(
                [
                    Problem(
                        "The ledger or the choices have changed since the preview (someone else entered or "
                        "changed lines, or the choices of how to read the file are not those previewed), so "
                        "this import would no longer do what the preview showed. Nothing was imported; look "
                        "at the new preview and confirm again."
                    )
                ]
            )
        previous = ImportRecord.objects.filter(fund=locked, sha256=sheet.sha256).first()
        if plan.changes_nothing:
            return ImportResult(plan=plan, record=None, previous=previous)
        token = importing.set(True)
        try:
            record = _apply_plan(locked, plan, acting_user)
        finally:
            importing.reset(token)
    return ImportResult(plan=plan, record=record, previous=previous)


def _apply_plan(fund: Fund, plan: ImportPlan, acting_user: OptionalUser) -> ImportRecord:
    """Write the plan with the batch services, one call per kind of change (each checks every row
    before writing any). A refused row is reported with its sheet and row; raised inside the
    transaction, the refusal rolls back everything this import wrote."""
    sheet = plan.sheet
    memo = import_memo(sheet.file_name, sheet.sha256)

    def refuse(error: ValidationError, rows: list[int]):
        if isinstance(error, RowsRefused):
            problems = [
                Problem(message, sheet.sheet_name, rows[index])
                for index, row_error in error.rows.items()
                for message in row_error.messages
            ]
        else:
            problems = [Problem(message, sheet.sheet_name) for message in error.messages]
        raise ImportRefused(problems) from error

    created: dict[int, Organisation] = {}
    if plan.new_organisations:
        try:
            organisations = organisations_create(
                organisations=plan.new_organisations,
                acting_user=acting_user,
            )
        except ValidationError as error:
            refuse(error, [new.first_row for new in plan.new_organisations])
        created = {id(new): made for new, made in zip(plan.new_organisations, organisations, strict=True)}

    # A table by year: each line's entries after the first, as variations (see `_record_later_years`).
    later: list[tuple[PlanLine, Allocation]] = []
    if new_lines := plan.new_lines:
        try:
            new_allocations = allocations_create(
                fund=fund,
                lines=[
                    NewLine(
                        line_number=line.line_number,
                        organisation=created.get(id(line.organisation), line.organisation),
                        service=line.service,
                        thematic_area=line.thematic_area,
                        funding_category=line.funding_category,
                        # By year, the award is the first year's amount, dated in that year.
                        amount=line.entries[0][1] if line.entries else line.amount,
                        source_text=line.source_text[:400],
                        notes=line.notes,
                        effective_date=line.entries[0][2] if line.entries else line.effective_date,
                    )
                    for line in new_lines
                ],
                memo=memo,
                acting_user=acting_user,
            )
        except ValidationError as error:
            refuse(error, [line.row for line in new_lines])
        later += [(line, made) for line, made in zip(new_lines, new_allocations, strict=True) if line.years]

    if changed_by_year := [line for line in plan.changed_lines if line.years]:
        held = Allocation.objects.in_bulk([line.allocation_id for line in changed_by_year])
        later += [(line, held[line.allocation_id]) for line in changed_by_year]
    if later:
        _record_later_years(later, memo, acting_user, refuse)

    if changed_lines := [line for line in plan.changed_lines if not line.years]:
        changed = Allocation.objects.in_bulk([line.allocation_id for line in changed_lines])
        try:
            allocation_amounts_set(
                changes=[
                    AmountChange(
                        allocation=changed[line.allocation_id],
                        amount=line.amount,
                        expected_current=line.current,
                        effective_date=line.effective_date,
                    )
                    for line in changed_lines
                ],
                memo=memo,
                acting_user=acting_user,
            )
        except ValidationError as error:
            refuse(error, [line.row for line in changed_lines])

    _remember_texts(fund, plan, acting_user)
    record = ImportRecord(
        fund=fund,
        file_name=sheet.file_name,
        sha256=sheet.sha256,
        imported_by=_user_or_none(acting_user),
        lines_added=len(plan.new_lines),
        amounts_changed=len(plan.changed_lines),
        lines_unchanged=len(plan.unchanged_lines),
        organisations_created=len(plan.new_organisations),
    )
    record.full_clean()
    record.save()
    return record


def _record_later_years(later: list[tuple[PlanLine, Allocation]], memo: str, acting_user, refuse) -> None:
    """Each line's entries by year after its award (a new line), or all of them (a changed one), as
    variations of their years' sizes dated in their years, through `allocation_amounts_set`. That
    service sets a line's amount to a new total with one variation a line per call, so the k-th
    entries of every line go in the k-th call: as many calls as the file has years, whatever its
    number of rows. A changed line's first call expects the amount the plan was made against."""
    queued = [
        (line, allocation, line.entries[1:] if line.current is None else line.entries)
        for line, allocation in later
    ]
    totals = {
        id(line): money.gbp(line.entries[0][1] if line.current is None else line.current) for line, _ in later
    }
    for number in range(max(len(entries) for _, _, entries in queued)):
        batch = [
            (line, allocation, entries[number])
            for line, allocation, entries in queued
            if number < len(entries)
        ]
        changes = []
        for line, allocation, (_, amount, date) in batch:
            totals[id(line)] = money.total([totals[id(line)], money.gbp(amount)])
            changes.append(
                AmountChange(
                    allocation=allocation,
                    amount=totals[id(line)],
                    effective_date=date,
                    expected_current=line.current if number == 0 else None,
                )
            )
        try:
            allocation_amounts_set(changes=changes, memo=memo, acting_user=acting_user)
        except ValidationError as error:
            refuse(error, [line.row for line, _, _ in batch])


def _remember_texts(fund: Fund, plan: ImportPlan, acting_user: OptionalUser) -> None:
    """What the officer said the file's texts mean is kept for the fund, so that the next import of
    the same office's table reads them without asking (a new choice replaces the one kept)."""
    user = _user_or_none(acting_user)
    for reading in plan.texts_to_remember:
        key = value_key(reading.text)
        if len(reading.text) > ImportValueMapping._meta.get_field("text").max_length:
            continue  # a paragraph, not a label: used for this import, not kept
        remembered = ImportValueMapping.objects.filter(fund=fund, text_key=key).first() or ImportValueMapping(
            fund=fund, text_key=key
        )
        remembered.text = reading.text
        remembered.thematic_area = reading.thematic_area
        remembered.funding_category = reading.funding_category
        remembered.mapped_by = user
        remembered.mapped_at = timezone.now()
        remembered.full_clean()
        remembered.save()


PENDING_IMPORT_LIFETIME = datetime.timedelta(days=1)


@transaction.atomic
def pending_import_create(*, fund: Fund, file_name: str, content: bytes, acting_user) -> PendingImport:
    """Keep an uploaded file until its preview is confirmed (the browser cannot hold it without
    JavaScript). The uploader's earlier copy of the same file for the fund is replaced, and uploads
    older than a day are removed."""
    PendingImport.objects.filter(uploaded_at__lt=timezone.now() - PENDING_IMPORT_LIFETIME).delete()
    sha256 = hashlib.sha256(content).hexdigest()
    PendingImport.objects.filter(fund=fund, uploaded_by=acting_user, sha256=sha256).delete()
    pending = PendingImport(
        fund=fund,
        uploaded_by=acting_user,
        file_name=file_name.strip()[:255] or "upload.xlsx",
        sha256=sha256,
        content=content,
    )
    pending.full_clean()
    pending.save()
    return pending


def pending_import_discard(*, pending: PendingImport) -> None:
    pending.delete()
