"""Every write to the ledger, one function per use case.

Views, the admin, imports and management commands call these and nothing else writes. Each function is
keyword-only, atomic, validates with `full_clean()` before saving and raises `ValidationError` with a
message a finance officer can act on. Changes to money take a lock on the row they check first, so two
people changing the same allocation cannot both act on the same starting figure.

Financial controls (README, "Financial controls"):

- Entries are recorded pending and count towards the approved totals (and the MoJ return) only once
  approved by someone other than who recorded them (`entry_approve`).
- A payment may not take an allocation's payments above its approved award; underspend returned may
  not exceed what was paid. Both are checked under a lock on the allocation.
- A mistaken entry is undone by `entry_reverse`: an entry of the same kind and opposite amount.
- While a fund's submitted return is in force, nothing that changes its figures is accepted
  (`fund_submit_return`, `fund_reopen`).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from djmoney.money import Money

from grants import audit, money, selectors
from grants.imports import ImportRefused, Problem
from grants.imports.planning import CHANGED, NEW, ImportPlan, build_plan
from grants.imports.reading import read_workbook
from grants.models import (
    Allocation,
    Approval,
    ControlTotalRevision,
    Fund,
    FundingCategory,
    ImportRecord,
    LedgerEntry,
    Organisation,
    PendingImport,
    ReturnSubmission,
    ThematicArea,
    awarded_sum,
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


def _audited(*, reason_from: str | None = None, reason: str = ""):
    """Make a service atomic and record, on every row it changes, who acted and why: the
    `acting_user` argument, and the reason given in the argument `reason_from` (or a fixed one).
    The database's audit triggers write the record in the same transaction (grants/audit.py)."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            why = str(kwargs.get(reason_from) or "").strip() if reason_from else reason
            with (
                transaction.atomic(),
                audit.context(user=_user_or_none(kwargs.get("acting_user")), reason=why),
            ):
                return function(*args, **kwargs)

        return wrapper

    return decorate


def locked_message(submission: ReturnSubmission) -> str:
    return (
        f"This fund's MoJ return was submitted (version {submission.version}, "
        f"{timezone.localtime(submission.submitted_at):%d %B %Y %H:%M}, by {submission.submitted_by}), "
        "so its allocations and entries are locked. An approver can reopen the fund, with a reason."
    )


def _lock_open_fund(fund_id: int) -> Fund:
    """Lock the fund's row for this transaction and refuse if its submitted return is in force.

    Every write to a fund's figures takes this lock first, so a submission waits for writes in
    flight and a write waits for a submission, and neither sees half of the other.
    """
    fund = Fund.objects.select_for_update().get(pk=fund_id)
    submission = (
        ReturnSubmission.objects.in_force().filter(fund_id=fund_id).select_related("submitted_by").first()
    )
    if submission is not None:
        raise ValidationError(locked_message(submission))
    return fund


@_audited(reason_from="memo")
def fund_save(*, fund: Fund, acting_user: User, memo: str = "") -> Fund:
    """Create or update a fund; a change of control total is kept as a ControlTotalRevision.

    A changed control total needs a memo saying why (a revised award letter, say).
    """
    fund.full_clean()
    previous = None
    if fund.pk is not None:
        previous = Fund.objects.select_for_update().filter(pk=fund.pk).first()
    changed = previous is not None and previous.control_total != fund.control_total
    if changed:
        _lock_open_fund(fund.pk)
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
    fund: Fund,
    allocation: Allocation | None,
    kind: str,
    amount: Money,
    effective_date: datetime.date,
    memo: str,
    acting_user: User,
    reference: str = "",
    reverses: LedgerEntry | None = None,
) -> LedgerEntry:
    entry = LedgerEntry(
        fund=fund,
        allocation=allocation,
        kind=kind,
        amount=amount,
        effective_date=effective_date,
        reference=reference,
        reverses=reverses,
        memo=memo,
        recorded_by=_user_or_none(acting_user),
    )
    entry.full_clean()
    entry.save()
    return entry


@_audited(reason_from="memo")
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
    """Add a line to a fund with its award entry, which waits for approval."""
    _lock_open_fund(fund.pk)
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
        fund=fund,
        allocation=allocation,
        kind=LedgerEntry.Kind.AWARD,
        amount=award,
        effective_date=effective_date or timezone.localdate(),
        memo=memo.strip() or "Award",
        acting_user=acting_user,
    )
    return allocation


def changed_since_opened_message(allocation: Allocation) -> str:
    return (
        f"Someone else saved a change to line {allocation.line_number} since you opened it. "
        "Your changes are still in the form: reload the line in another tab to see theirs, "
        "then save again."
    )


@_audited()
def allocation_update(
    *, allocation: Allocation, acting_user: User, expected_version: int | None = None
) -> Allocation:
    """Save the descriptive fields of a line (organisation, service, categories, notes).

    Its money changes only through `allocation_set_amount()`. A form passes `expected_version`, the
    version it was opened at: if someone has saved the line since, the save is refused, not merged.
    """
    if allocation.pk is None:
        raise ValueError("allocation_update() changes an existing line; use allocation_create()")
    recorded = Allocation.objects.select_for_update().values("fund_id", "version").get(pk=allocation.pk)
    if allocation.fund_id != recorded["fund_id"]:
        raise ValidationError(
            {"fund": "A line cannot move to another fund: its ledger entries belong to this one."}
        )
    _lock_open_fund(allocation.fund_id)
    if expected_version is not None and expected_version != recorded["version"]:
        raise ValidationError(changed_since_opened_message(allocation))
    allocation.service = allocation.service.strip()
    allocation.full_clean()
    allocation.version = recorded["version"] + 1
    allocation.save()
    return allocation


def _figures(allocation_id: int):
    return (
        Allocation.objects.with_figures()
        .values("awarded", "awarded_pending", "paid", "returned")
        .get(pk=allocation_id)
    )


def allocation_awarded(allocation: Allocation, approval: Approval = Approval.APPROVED) -> Money:
    """The allocation's amount now: the sum of its approved award and variations (or of those
    pending, or of all recorded)."""
    awarded = (
        Allocation.objects.annotate(total=awarded_sum(approval=approval))
        .values_list("total", flat=True)
        .get(pk=allocation.pk)
    )
    return money.from_aggregate(awarded)


def stale_amount_message(current: Money) -> str:
    return (
        f"Someone else has changed this line's amount to {money.format_gbp(current)} since "
        "you opened it. Reload the page to see their change, then try again."
    )


@_audited(reason_from="memo")
def allocation_set_amount(
    *,
    allocation: Allocation,
    amount: Money | Decimal | str,
    memo: str,
    acting_user: User,
    effective_date: datetime.date | None = None,
    expected_current: Money | Decimal | str | None = None,
) -> LedgerEntry | None:
    """Bring the allocation's recorded amount (approved and pending entries) to `amount` by recording
    a variation for the difference, which waits for approval.

    Returns the variation, or None when the amount is unchanged. The earlier entries stay as they are.
    A form passes `expected_current`, the amount it showed: if someone has changed the line since,
    the change is refused rather than silently undoing theirs.
    """
    target = _as_money(amount, "amount")
    if target.amount < 0:
        raise ValidationError({"amount": "An allocation cannot be varied below £0.00."})
    # Lock the line so a concurrent change waits and then sees this one's entry.
    Allocation.objects.select_for_update().filter(pk=allocation.pk).get()
    _lock_open_fund(allocation.fund_id)
    current = allocation_awarded(allocation, Approval.RECORDED)
    if expected_current is not None and _as_money(expected_current, "amount") != current:
        raise ValidationError({"amount": stale_amount_message(current)})
    change = money.difference(target, current)
    if change.amount == 0:
        return None
    if not memo.strip():
        raise ValidationError({"memo": "Say why the amount changed; the reason is kept with the variation."})
    return _record_entry(
        fund=allocation.fund,
        allocation=allocation,
        kind=LedgerEntry.Kind.VARIATION,
        amount=change,
        effective_date=effective_date or timezone.localdate(),
        memo=memo.strip(),
        acting_user=acting_user,
    )


def _money_movement(amount, reference: str) -> tuple[Money, str]:
    value = _as_money(amount, "amount")
    problems = {}
    if value.amount <= 0:
        problems["amount"] = "The amount must be more than £0.00."
    if not reference.strip():
        problems["reference"] = "Give the payment or remittance reference, as on the remittance advice."
    if problems:
        raise ValidationError(problems)
    return value, reference.strip()


def _lock_allocation(allocation: Allocation) -> Allocation:
    """Lock the line, then its fund (refusing a submitted one), always in that order."""
    locked = Allocation.objects.select_for_update().get(pk=allocation.pk)
    _lock_open_fund(locked.fund_id)
    return locked


def _money_problem(allocation_id: int) -> str | None:
    """What is wrong with a line's money once its entries are counted, if anything."""
    figures = {key: money.from_aggregate(value) for key, value in _figures(allocation_id).items()}
    if figures["paid"].amount > figures["awarded"].amount:
        return (
            f"Payments would come to {money.format_gbp(figures['paid'])}, more than the approved award "
            f"of {money.format_gbp(figures['awarded'])}."
        )
    if figures["returned"].amount > figures["paid"].amount:
        return (
            f"Underspend returned would come to {money.format_gbp(figures['returned'])}, more than the "
            f"{money.format_gbp(figures['paid'])} paid."
        )
    return None


@_audited(reason_from="memo")
def payment_record(
    *,
    allocation: Allocation,
    amount: Money | Decimal | str,
    effective_date: datetime.date,
    reference: str,
    acting_user: User,
    memo: str = "",
) -> LedgerEntry:
    """Record a payment to the provider. Refused if it would take the line's payments (recorded,
    approved or not) above its approved award."""
    value, reference = _money_movement(amount, reference)
    allocation = _lock_allocation(allocation)
    figures = _figures(allocation.pk)
    room = money.difference(money.from_aggregate(figures["awarded"]), money.from_aggregate(figures["paid"]))
    if value.amount > room.amount:
        raise ValidationError(
            {
                "amount": f"{money.format_gbp(value)} is more than is left to pay on this line: the approved "
                f"award is {money.format_gbp(money.from_aggregate(figures['awarded']))}, of which "
                f"{money.format_gbp(money.from_aggregate(figures['paid']))} is already paid, so at most "
                f"{money.format_gbp(max(room, money.zero()))} can be paid."
            }
        )
    return _record_entry(
        fund=allocation.fund,
        allocation=allocation,
        kind=LedgerEntry.Kind.PAYMENT,
        amount=value,
        effective_date=effective_date,
        reference=reference,
        memo=memo.strip() or "Payment to provider",
        acting_user=acting_user,
    )


@_audited(reason_from="memo")
def underspend_record(
    *,
    allocation: Allocation,
    amount: Money | Decimal | str,
    effective_date: datetime.date,
    reference: str,
    acting_user: User,
    memo: str = "",
) -> LedgerEntry:
    """Record underspend the provider sent back. Refused if more would come back than was paid."""
    value, reference = _money_movement(amount, reference)
    allocation = _lock_allocation(allocation)
    figures = _figures(allocation.pk)
    held = money.difference(money.from_aggregate(figures["paid"]), money.from_aggregate(figures["returned"]))
    if value.amount > held.amount:
        raise ValidationError(
            {
                "amount": f"{money.format_gbp(value)} is more than the provider holds from this line: "
                f"{money.format_gbp(money.from_aggregate(figures['paid']))} paid, "
                f"{money.format_gbp(money.from_aggregate(figures['returned']))} already returned."
            }
        )
    return _record_entry(
        fund=allocation.fund,
        allocation=allocation,
        kind=LedgerEntry.Kind.UNDERSPEND_RETURNED,
        amount=value,
        effective_date=effective_date,
        reference=reference,
        memo=memo.strip() or "Underspend returned by provider",
        acting_user=acting_user,
    )


@_audited(reason_from="memo")
def funder_return_record(
    *,
    fund: Fund,
    amount: Money | Decimal | str,
    effective_date: datetime.date,
    reference: str,
    acting_user: User,
    memo: str = "",
) -> LedgerEntry:
    """Record money the office sends back to the funder (unspent grant)."""
    value, reference = _money_movement(amount, reference)
    fund = _lock_open_fund(fund.pk)
    return _record_entry(
        fund=fund,
        allocation=None,
        kind=LedgerEntry.Kind.RETURNED_TO_FUNDER,
        amount=value,
        effective_date=effective_date,
        reference=reference,
        memo=memo.strip() or "Returned to funder",
        acting_user=acting_user,
    )


@_audited(reason_from="memo")
def entry_reverse(*, entry: LedgerEntry, memo: str, acting_user: User) -> LedgerEntry:
    """Cancel a mistaken entry with one of the same kind and the opposite amount, linked to it.

    Both stay visible. The reversal waits for approval like any entry. Refused for a reversal itself
    (record the entry again instead), for an entry already reversed, and where the line's money
    would no longer add up (a payment reversed below what the provider has returned, say).
    """
    if not memo.strip():
        raise ValidationError({"memo": "Say why the entry is being reversed; the reason is kept with it."})
    if entry.allocation_id is not None:
        _lock_allocation(entry.allocation)
    else:
        _lock_open_fund(entry.fund_id)
    entry = LedgerEntry.objects.select_related("fund", "allocation").get(pk=entry.pk)
    if entry.is_reversal:
        raise ValidationError("This entry is itself a reversal; to restore the original, record it again.")
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError("This entry has already been reversed.")
    reversal = _record_entry(
        fund=entry.fund,
        allocation=entry.allocation,
        kind=entry.kind,
        amount=-entry.amount,
        effective_date=timezone.localdate(),
        reference=entry.reference,
        reverses=entry,
        memo=memo.strip(),
        acting_user=acting_user,
    )
    if entry.allocation_id is not None:
        problem = _money_problem(entry.allocation_id)
        if problem:
            raise ValidationError(f"This reversal cannot be recorded: {problem}")
    return reversal


def self_approval_message() -> str:
    return "You recorded this entry, so someone else must approve it (four-eyes rule)."


@_audited(reason="Approved")
def entry_approve(*, entry: LedgerEntry, acting_user: AbstractBaseUser) -> LedgerEntry:
    """Approve an entry recorded by someone else. From then it counts in the approved totals.

    Refused for the person who recorded it (the database refuses it too), for an entry already
    approved, on a fund whose return is submitted, and where approving would leave the line paid
    above its approved award.
    """
    if acting_user is None or not acting_user.is_authenticated:
        raise ValidationError("Approval needs a signed-in approver.")
    if entry.allocation_id is not None:
        _lock_allocation(entry.allocation)
    else:
        _lock_open_fund(entry.fund_id)
    entry = LedgerEntry.objects.get(pk=entry.pk)
    if entry.recorded_by_id == acting_user.pk:
        raise ValidationError(self_approval_message())
    if entry.is_approved:
        raise ValidationError("This entry is already approved.")
    now = timezone.now()
    # The one change the append-only table takes (migration 0006 lets it through once).
    models.QuerySet.update(
        LedgerEntry.objects.filter(pk=entry.pk, approved_at__isnull=True),
        approved_by=acting_user,
        approved_at=now,
    )
    if entry.allocation_id is not None:
        problem = _money_problem(entry.allocation_id)
        if problem:
            raise ValidationError(f"This entry cannot be approved yet: {problem}")
    entry.approved_by, entry.approved_at = acting_user, now
    return entry


def return_file_name(fund: Fund, version: int) -> str:
    return f"MoJ-return_{fund.code}_v{version}.xlsx"


@_audited(reason="MoJ return submitted")
def fund_submit_return(*, fund: Fund, acting_user: AbstractBaseUser) -> ReturnSubmission:
    """Build the fund's MoJ return, store the exact bytes with their SHA-256, and lock the fund.

    The return counts approved entries only. The lock on the fund is taken before the workbook is
    built, so no write to the fund's figures can slip in between the return and its lock.
    """
    from grants.exports.files import build_moj_return_into

    if acting_user is None or not acting_user.is_authenticated:
        raise ValidationError("Submitting a return needs a signed-in approver.")
    fund = _lock_open_fund(fund.pk)
    buffer = io.BytesIO()
    build_moj_return_into(fund, buffer, user=acting_user)
    workbook = buffer.getvalue()
    version = (fund.submissions.aggregate(latest=Max("version"))["latest"] or 0) + 1
    submission = ReturnSubmission(
        fund=fund,
        version=version,
        file_name=return_file_name(fund, version),
        workbook=workbook,
        sha256=hashlib.sha256(workbook).hexdigest(),
        submitted_by=acting_user,
    )
    submission.full_clean()
    submission.save()
    return submission


@_audited(reason_from="reason")
def fund_reopen(*, fund: Fund, reason: str, acting_user: AbstractBaseUser) -> ReturnSubmission:
    """Lift the lock of the fund's submitted return, with a reason. The next submission is a new
    version; the reopened one's bytes stay as they were."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the fund is being reopened; the reason is kept."})
    Fund.objects.select_for_update().get(pk=fund.pk)
    submission = ReturnSubmission.objects.in_force().filter(fund=fund).first()
    if submission is None:
        raise ValidationError("This fund has no submitted return in force, so there is nothing to reopen.")
    now = timezone.now()
    ReturnSubmission.objects.filter(pk=submission.pk, reopened_at__isnull=True).update(
        reopened_by=acting_user, reopened_at=now, reopen_reason=reason.strip()
    )
    submission.refresh_from_db()
    return submission


@_audited()
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


@_audited()
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
    with (
        transaction.atomic(),
        audit.context(user=_user_or_none(acting_user), reason=import_memo(file_name, sheet.sha256)),
    ):
        try:
            locked = _lock_open_fund(fund.pk)
        except ValidationError as error:
            raise ImportRefused([Problem(message) for message in error.messages]) from error
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
