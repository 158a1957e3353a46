"""Every write to the ledger, one function per use case.

Views, the admin, imports and management commands call these and nothing else writes. Each function is
keyword-only, atomic, validates with `full_clean()` before saving and raises `ValidationError` with a
message a finance officer can act on. Changes to money take a lock on the row they check first, so two
people changing the same allocation cannot both act on the same starting figure.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from grants import money, selectors
from grants.imports import ImportRefused, Problem
from grants.imports.planning import CHANGED, NEW, ImportPlan, build_plan
from grants.imports.reading import read_workbook
from grants.models import (
    Allocation,
    ControlTotalRevision,
    Fund,
    FundingCategory,
    ImportRecord,
    LedgerEntry,
    Organisation,
    PendingImport,
    ThematicArea,
)

User = AbstractBaseUser | None


def _as_money(amount: Money | Decimal | int | str, field: str) -> Money:
    """Exact pounds from a form, an import or a caller, or a ValidationError naming the field."""
    if isinstance(amount, Money):
        if str(amount.currency) != money.GBP:
            raise ValidationError({field: f"Amounts must be in pounds sterling, not {amount.currency}."})
        amount = amount.amount
    try:
        return money.gbp(amount)
    except TypeError as error:
        raise ValidationError({field: str(error)}) from error
    except money.AmountTooLarge as error:
        raise ValidationError(
            {field: f"{amount} is too large: amounts must be less than £1,000,000,000,000."}
        ) from error
    except ValueError as error:
        raise ValidationError(
            {field: f"{amount} is not an amount in pounds and pence (at most 2 decimal places)."}
        ) from error


def _user_or_none(acting_user: User):
    return acting_user if acting_user is not None and acting_user.is_authenticated else None


@transaction.atomic
def fund_save(*, fund: Fund, acting_user: User, memo: str = "") -> Fund:
    """Create or update a fund; a change of control total is kept as a ControlTotalRevision.

    A changed control total needs a memo saying why (a revised award letter, say).
    """
    fund.full_clean()
    previous = None
    if fund.pk is not None:
        previous = Fund.objects.select_for_update().filter(pk=fund.pk).first()
    changed = previous is not None and previous.control_total != fund.control_total
    if changed and not memo.strip():
        raise ValidationError(
            {"control_total": "Say why the control total changed (for example, the award letter's date)."}
        )
    fund.save()
    if changed:
        revision = ControlTotalRevision(
            fund=fund,
            previous_amount=previous.control_total,
            new_amount=fund.control_total,
            memo=memo.strip(),
            recorded_by=_user_or_none(acting_user),
        )
        revision.full_clean()
        revision.save()
    return fund


def _record_entry(
    *,
    allocation: Allocation,
    kind: str,
    amount: Money,
    effective_date: datetime.date,
    memo: str,
    acting_user: User,
) -> LedgerEntry:
    entry = LedgerEntry(
        allocation=allocation,
        kind=kind,
        amount=amount,
        effective_date=effective_date,
        memo=memo,
        recorded_by=_user_or_none(acting_user),
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def allocation_create(
    *,
    fund: Fund,
    line_number: int,
    organisation: Organisation,
    thematic_area: ThematicArea,
    funding_category: FundingCategory,
    amount: Money | Decimal | str,
    memo: str,
    acting_user: User,
    service: str = "",
    source_text: str = "",
    notes: str = "",
    effective_date: datetime.date | None = None,
) -> Allocation:
    """Add a line to a fund with its award entry."""
    award = _as_money(amount, "amount")
    if award.amount <= 0:
        raise ValidationError({"amount": "An award must be more than £0.00."})
    allocation = Allocation(
        fund=fund,
        line_number=line_number,
        organisation=organisation,
        service=service.strip(),
        thematic_area=thematic_area,
        funding_category=funding_category,
        source_text=source_text,
        notes=notes,
    )
    allocation.full_clean()
    allocation.save()
    _record_entry(
        allocation=allocation,
        kind=LedgerEntry.Kind.AWARD,
        amount=award,
        effective_date=effective_date or timezone.localdate(),
        memo=memo.strip() or "Award",
        acting_user=acting_user,
    )
    return allocation


@transaction.atomic
def allocation_update(*, allocation: Allocation, acting_user: User) -> Allocation:
    """Save the descriptive fields of a line (organisation, service, categories, notes).

    Its money changes only through `allocation_set_amount()`.
    """
    if allocation.pk is None:
        raise ValueError("allocation_update() changes an existing line; use allocation_create()")
    recorded_fund_id = (
        Allocation.objects.select_for_update().values_list("fund_id", flat=True).get(pk=allocation.pk)
    )
    if allocation.fund_id != recorded_fund_id:
        raise ValidationError(
            {"fund": "A line cannot move to another fund: its ledger entries belong to this one."}
        )
    allocation.service = allocation.service.strip()
    allocation.full_clean()
    allocation.save()
    return allocation


def allocation_awarded(allocation: Allocation) -> Money:
    """The allocation's amount now: the sum of its award and variations."""
    awarded = Allocation.objects.with_awarded().values_list("awarded", flat=True).get(pk=allocation.pk)
    return money.from_aggregate(awarded)


def stale_amount_message(current: Money) -> str:
    return (
        f"Someone else has changed this line's amount to {money.format_gbp(current)} since "
        "you opened it. Reload the page to see their change, then try again."
    )


@transaction.atomic
def allocation_set_amount(
    *,
    allocation: Allocation,
    amount: Money | Decimal | str,
    memo: str,
    acting_user: User,
    effective_date: datetime.date | None = None,
    expected_current: Money | Decimal | str | None = None,
) -> LedgerEntry | None:
    """Bring the allocation's amount to `amount` by recording a variation for the difference.

    Returns the variation, or None when the amount is unchanged. The earlier entries stay as they are.
    A form passes `expected_current`, the amount it showed: if someone has changed the line since,
    the change is refused rather than silently undoing theirs.
    """
    target = _as_money(amount, "amount")
    if target.amount < 0:
        raise ValidationError({"amount": "An allocation cannot be varied below £0.00."})
    # Lock the line so a concurrent change waits and then sees this one's entry.
    Allocation.objects.select_for_update().filter(pk=allocation.pk).get()
    current = allocation_awarded(allocation)
    if expected_current is not None and _as_money(expected_current, "amount") != current:
        raise ValidationError({"amount": stale_amount_message(current)})
    change = money.difference(target, current)
    if change.amount == 0:
        return None
    if not memo.strip():
        raise ValidationError({"memo": "Say why the amount changed; the reason is kept with the variation."})
    return _record_entry(
        allocation=allocation,
        kind=LedgerEntry.Kind.VARIATION,
        amount=change,
        effective_date=effective_date or timezone.localdate(),
        memo=memo.strip(),
        acting_user=acting_user,
    )


@transaction.atomic
def organisation_create(
    *,
    name: str,
    acting_user: User,
    short_name: str = "",
    charity_number: str = "",
    company_number: str = "",
    org_identifier: str = "",
    notes: str = "",
) -> Organisation:
    """Add a provider. Names are unique ignoring case, so the same body is never entered twice."""
    organisation = Organisation(
        name=name.strip(),
        short_name=short_name.strip(),
        charity_number=charity_number.strip(),
        company_number=company_number.strip(),
        org_identifier=org_identifier.strip(),
        notes=notes,
    )
    organisation.full_clean()
    organisation.save()
    return organisation


@transaction.atomic
def organisation_update(*, organisation: Organisation, acting_user: User) -> Organisation:
    """Save corrections to a provider's details, trimmed and validated as when it was added."""
    for field in ("name", "short_name", "charity_number", "company_number", "org_identifier"):
        setattr(organisation, field, getattr(organisation, field).strip())
    organisation.full_clean()
    organisation.save()
    return organisation


class ImportPlanChanged(ImportRefused):
    """The ledger (or the file) changed between the preview and the confirmation."""


@dataclass(frozen=True)
class ImportResult:
    plan: ImportPlan
    record: ImportRecord | None  # None when the file changed nothing
    previous: ImportRecord | None  # an earlier import of the same file into this fund, if any


def import_memo(file_name: str, sha256: str) -> str:
    return f"Imported from {file_name} (SHA-256 {sha256})"


def allocations_import(
    *,
    fund: Fund,
    file_name: str,
    content: bytes,
    acting_user: User,
    expected_digest: str | None = None,
) -> ImportResult:
    """Apply a spreadsheet to a fund: all of it in one transaction, or nothing.

    The file is read first (outside the transaction: reading a large file takes a while); then, with
    the fund locked, it is planned against the ledger as it is now, and refused if that plan has any
    problem or, when `expected_digest` is given, differs from the one the person previewed. New
    organisations, new lines and changed amounts go through `organisation_create`, `allocation_create`
    and `allocation_set_amount`, each entry's memo naming the file and its SHA-256; an `ImportRecord`
    says who imported what. A file that would change nothing writes nothing.
    """
    file_name = file_name.strip()[:255] or "upload.xlsx"
    sheet = read_workbook(content, file_name)
    with transaction.atomic():
        locked = Fund.objects.select_for_update().get(pk=fund.pk)
        plan = build_plan(locked, sheet, selectors.import_snapshot(locked))
        if plan.problems:
            raise ImportRefused(plan.problems)
        if expected_digest is not None and plan.digest != expected_digest:
            raise ImportPlanChanged(
                [
                    Problem(
                        "The ledger has changed since the preview (someone else entered or changed lines), "
                        "so this import would no longer do what the preview showed. Nothing was imported; "
                        "look at the new preview and confirm again."
                    )
                ]
            )
        previous = ImportRecord.objects.filter(fund=locked, sha256=sheet.sha256).first()
        if plan.changes_nothing:
            return ImportResult(plan=plan, record=None, previous=previous)
        record = _apply_plan(locked, plan, acting_user)
    return ImportResult(plan=plan, record=record, previous=previous)


def _apply_plan(fund: Fund, plan: ImportPlan, acting_user: User) -> ImportRecord:
    sheet = plan.sheet
    memo = import_memo(sheet.file_name, sheet.sha256)

    def refuse(line, error: ValidationError):
        # Raised inside the transaction: everything this import wrote so far is rolled back.
        raise ImportRefused(
            [Problem(message, sheet.sheet_name, line.row) for message in error.messages]
        ) from error

    created: dict[int, Organisation] = {}
    for new in plan.new_organisations:
        try:
            created[id(new)] = organisation_create(
                name=new.name, short_name=new.short_name, acting_user=acting_user
            )
        except ValidationError as error:
            refuse(next(line for line in plan.lines if line.organisation is new), error)
    changed = Allocation.objects.in_bulk([line.allocation_id for line in plan.changed_lines])
    for line in plan.lines:
        try:
            if line.action == NEW:
                allocation_create(
                    fund=fund,
                    line_number=line.line_number,
                    organisation=created.get(id(line.organisation), line.organisation),
                    service=line.service,
                    thematic_area=line.thematic_area,
                    funding_category=line.funding_category,
                    amount=line.amount,
                    source_text=line.source_text[:400],
                    effective_date=line.effective_date,
                    memo=memo,
                    acting_user=acting_user,
                )
            elif line.action == CHANGED:
                allocation_set_amount(
                    allocation=changed[line.allocation_id],
                    amount=line.amount,
                    expected_current=line.current,
                    effective_date=line.effective_date,
                    memo=memo,
                    acting_user=acting_user,
                )
        except ValidationError as error:
            refuse(line, error)
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
