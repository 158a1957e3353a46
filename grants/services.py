"""Every write to the ledger, one function per use case.

Views, the admin, imports and management commands call these and nothing else writes. Each function is
keyword-only, atomic, validates with `full_clean()` before saving and raises `ValidationError` with a
message a finance officer can act on. Adding lines, changing amounts and adding organisations are batch
services (`allocations_create`, `allocation_amounts_set`, `organisations_create`) that check every row
before writing any, in a fixed number of queries; the one-row services the forms call use them.
Changes to money take a lock on the row they check first, so two people changing the same allocation
cannot both act on the same starting figure.

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
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models import F, Max, Q, Sum
from django.utils import timezone
from djmoney.money import Money

from grants import audit, money
from grants.figures import FundFigures, GroupFigures
from grants.imports import ImportRefused, Problem, import_memo
from grants.imports.planning import ImportPlan, build_plan
from grants.imports.reading import read_workbook
from grants.imports.snapshot import import_snapshot
from grants.models import (
    Allocation,
    Approval,
    CategoryBudget,
    ControlTotalRevision,
    Fund,
    Funder,
    FundingCategory,
    ImportRecord,
    LedgerEntry,
    LineChange,
    Organisation,
    PendingImport,
    RefusedAttempt,
    ReturnSubmission,
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


# Services running in this context: only the outermost records a refusal, once.
_service_depth: ContextVar[int] = ContextVar("ledger_service_depth", default=0)
REFUSALS = (ValidationError, PermissionDenied, ImportRefused, IntegrityError)


def _audited(*, reason_from: str | None = None, reason: str = ""):
    """Make a service atomic and record, on every row it changes, who acted and why: the
    `acting_user` argument, and the reason given in the argument `reason_from` (or a fixed one).
    The database's audit triggers write the record in the same transaction (grants/audit.py).
    A refusal is recorded too (`RefusedAttempt`), after the refused change has been rolled back."""

    def decorate(function):
        @functools.wraps(function)
        def atomic(*args, **kwargs):
            why = str(kwargs.get(reason_from) or "").strip() if reason_from else reason
            acting_user = _user_or_none(kwargs.get("acting_user"))
            with transaction.atomic(), audit.context(user=acting_user, reason=why):
                return function(*args, **kwargs)

        return _refusals_recorded(atomic)

    return decorate


def _refusals_recorded(function):
    """Record a refusal of `function` (`RefusedAttempt`) once its own transaction has rolled back;
    when services call services, only the outermost records it."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        depth = _service_depth.set(_service_depth.get() + 1)
        try:
            return function(*args, **kwargs)
        except REFUSALS as refused:
            if _service_depth.get() == 1:
                _refusal_record(function.__name__, kwargs, refused, _user_or_none(kwargs.get("acting_user")))
            raise
        finally:
            _service_depth.reset(depth)

    return wrapper


def _refusal_message(refused: Exception) -> str:
    if isinstance(refused, ValidationError):
        text = "; ".join(refused.messages)
    elif isinstance(refused, IntegrityError):
        text = f"The database refused the change: {refused}"
    else:
        text = str(refused)
    return text.strip()[:4000] or refused.__class__.__name__


def _refusal_target(kwargs: dict) -> tuple[str, int | None, int | None]:
    """What the refused call was asked to change: a label, and the fund and line it belongs to."""
    for name, value in kwargs.items():
        if name == "acting_user":
            continue
        rows = list(value) if isinstance(value, list | tuple) else [value]
        rows = [row for row in rows if isinstance(row, models.Model)]
        if not rows:
            continue
        first = rows[0]
        label = f"{first._meta.verbose_name} {first.pk}" if first.pk else str(first._meta.verbose_name)
        if len(rows) > 1:
            label += f" and {len(rows) - 1} more"
        fund_id = first.pk if isinstance(first, Fund) else getattr(first, "fund_id", None)
        allocation_id = first.pk if isinstance(first, Allocation) else getattr(first, "allocation_id", None)
        if len({getattr(row, "allocation_id", None) for row in rows}) > 1:
            allocation_id = None
        return label[:200], fund_id, allocation_id
    return "", None, None


def _refusal_record(action: str, kwargs: dict, refused: Exception, acting_user) -> None:
    """Record who tried what and why it was refused, in a transaction of its own. Inside an outer
    transaction that can no longer write (an error left it to be rolled back) there is nothing to do:
    the outer transaction's owner sees the error."""
    connection = transaction.get_connection(router.db_for_write(RefusedAttempt))
    if connection.needs_rollback:
        return
    target, fund_id, allocation_id = _refusal_target(kwargs)
    message = _refusal_message(refused)
    with transaction.atomic(), audit.context(user=acting_user, reason=message[:1000]):
        RefusedAttempt.objects.create(
            attempted_by=acting_user,
            action=action,
            target=target,
            fund_id=fund_id,
            allocation_id=allocation_id,
            message=message,
        )


def locked_message(submission: ReturnSubmission) -> str:
    return (
        f"This fund's MoJ return was submitted (version {submission.version}, "
        f"{timezone.localtime(submission.submitted_at):%d %B %Y %H:%M}, by {submission.submitted_by}), "
        "so everything it reports is locked: the fund's details and category budgets, its allocations, "
        "entries, proposed changes and imports. An approver can reopen the fund, with a reason."
    )


def submission_in_force(fund_id: int | None) -> ReturnSubmission | None:
    if fund_id is None:
        return None
    return ReturnSubmission.objects.in_force().filter(fund_id=fund_id).select_related("submitted_by").first()


def _refuse_if_submitted(fund_id: int | None) -> None:
    """Refuse with the submission's message if the fund's return is in force. Call it with the fund's
    row locked (`_lock_open_fund` does both), so a submission cannot slip in between."""
    submission = submission_in_force(fund_id)
    if submission is not None:
        raise ValidationError(locked_message(submission))


def _lock_open_fund(fund_id: int) -> Fund:
    """Lock the fund's row for this transaction and refuse if its submitted return is in force.

    Every write to a fund's figures takes this lock first, so a submission waits for writes in
    flight and a write waits for a submission, and neither sees half of the other.
    """
    fund = Fund.objects.select_for_update().get(pk=fund_id)
    _refuse_if_submitted(fund_id)
    return fund


# ---- Versions: no lost updates ------------------------------------------------------------------


def changed_since_opened_message(row: models.Model) -> str:
    """What a form opened before a colleague's save is told; what was typed stays in the form."""
    what = f"line {row.line_number}" if isinstance(row, Allocation) else f"this {row._meta.verbose_name}"
    return (
        f"Someone else saved a change to {what} since you opened it. "
        "Your changes are still in the form: reload the page in another tab to see theirs, "
        "then save again."
    )


def check_and_bump_version(model: type[models.Model], pk, expected_version: int, **values) -> int:
    """`UPDATE model SET version = version + 1, <values> WHERE pk = pk AND version = expected_version`,
    refused (a ValidationError naming the row) when no row matches: someone saved it since the form
    was opened at `expected_version`. The check and the write are one statement, so two saves of the
    same version cannot both succeed, whatever the database. Returns the new version."""
    updated = model._base_manager.filter(pk=pk, version=expected_version).update(
        version=F("version") + 1, **values
    )
    if updated == 0:
        raise ValidationError(changed_since_opened_message(model._base_manager.get(pk=pk)))
    return expected_version + 1


def _save_versioned(row: models.Model, expected_version: int | None) -> None:
    """Save an existing row's fields with its version raised by one: only if it is still at
    `expected_version` (the version a form was opened at), or whatever it is when none is given (a
    command, an import). `row` has passed `full_clean()`."""
    model = type(row)
    values = {
        field.attname: getattr(row, field.attname)
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname != "version"
    }
    if expected_version is None:
        expected_version = (
            model._base_manager.select_for_update().values_list("version", flat=True).get(pk=row.pk)
        )
    row.version = check_and_bump_version(model, row.pk, expected_version, **values)


# ---- Funds, their budgets and reference data ------------------------------------------------------

FUND_FACTS = ("code", "name", "funder", "spend_start", "spend_end", "control_total")


@_audited(reason_from="memo")
def fund_save(*, fund: Fund, acting_user: User, memo: str = "", expected_version: int | None = None) -> Fund:
    """Create or update a fund; a change of control total is kept as a ControlTotalRevision.

    A changed control total needs a memo saying why (a revised award letter, say). While the fund's
    submitted return is in force its facts (`FUND_FACTS`) cannot change; its notes can. A form
    passes `expected_version`, the version it was opened at: a save after a colleague's is refused.
    """
    fund.full_clean()
    if fund.pk is None:
        fund.save()
        return fund
    previous = Fund.objects.select_for_update().get(pk=fund.pk)
    if any(_field_value(fund, name, Fund) != _field_value(previous, name, Fund) for name in FUND_FACTS):
        _refuse_if_submitted(fund.pk)
    changed = previous.control_total != fund.control_total
    if changed and not memo.strip():
        raise ValidationError(
            {"control_total": "Say why the control total changed (for example, the award letter's date)."}
        )
    _save_versioned(fund, expected_version)
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


def _refuse_protected(row: models.Model, error: models.ProtectedError) -> ValidationError:
    kinds = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
    return ValidationError(f"{str(row)} cannot be deleted: it still has {', '.join(kinds)}.")


@_audited(reason="Deleted in the admin")
def funds_delete(*, funds: list[Fund], acting_user: User) -> None:
    """Delete funds that hold nothing (no lines, entries, submissions or imports; their category
    budgets go with them): all of them, or none when any is refused. A fund whose return is
    submitted is refused with the submission's message."""
    for fund in sorted(funds, key=lambda fund: fund.pk):
        _lock_open_fund(fund.pk)
    for fund in funds:
        try:
            with transaction.atomic():
                Fund.objects.filter(pk=fund.pk).delete()
        except models.ProtectedError as error:
            raise _refuse_protected(fund, error) from None


def fund_delete(*, fund: Fund, acting_user: User) -> None:
    funds_delete(funds=[fund], acting_user=acting_user)


@_audited()
def category_budget_save(
    *, budget: CategoryBudget, acting_user: User, expected_version: int | None = None
) -> CategoryBudget:
    """Add or change a fund's ring-fenced budget for a funding category: refused while the fund's
    submitted return is in force (for the fund it was on, and the fund it is put on), and, with
    `expected_version`, if someone saved the budget since the form was opened."""
    funds = {budget.fund_id}
    if budget.pk is not None:
        funds.add(CategoryBudget.objects.values_list("fund_id", flat=True).get(pk=budget.pk))
    for fund_id in sorted(funds):
        _lock_open_fund(fund_id)
    budget.full_clean()
    if budget.pk is None:
        budget.save()
    else:
        _save_versioned(budget, expected_version)
    return budget


@_audited()
def category_budget_delete(
    *, budget: CategoryBudget, acting_user: User, expected_version: int | None = None
) -> None:
    """Remove a fund's ring-fenced budget for a category: refused while the fund's submitted return is
    in force and, with `expected_version`, if someone saved the budget since the form was opened."""
    fund_id = CategoryBudget.objects.values_list("fund_id", flat=True).get(pk=budget.pk)
    _lock_open_fund(fund_id)
    if expected_version is not None:
        # Raising the version first makes the check and the delete one decision about this row.
        check_and_bump_version(CategoryBudget, budget.pk, expected_version)
    CategoryBudget.objects.filter(pk=budget.pk).delete()


@_audited(reason="Deleted in the admin")
def unused_rows_delete(
    *, rows: list[Funder | Organisation | ThematicArea | FundingCategory], acting_user: User
):
    """Delete funders, providers, thematic areas or funding categories that nothing refers to: all
    of them, or none when any is still used (a fund, a line or a budget names it)."""
    for row in rows:
        try:
            with transaction.atomic():
                type(row).objects.filter(pk=row.pk).delete()
        except models.ProtectedError as error:
            raise _refuse_protected(row, error) from None


@_audited()
def funder_save(*, funder: Funder, acting_user: User, expected_version: int | None = None) -> Funder:
    """Add or correct a funder. A rename does not reach a submitted return: its bytes are kept."""
    funder.full_clean()
    if funder.pk is None:
        funder.save()
    else:
        _save_versioned(funder, expected_version)
    return funder


@_audited()
def reference_data_save(
    *, item: ThematicArea | FundingCategory, acting_user: User, expected_version: int | None = None
) -> ThematicArea | FundingCategory:
    """Add or correct a thematic area or funding category (its name, description or place in lists)."""
    item.full_clean()
    if item.pk is None:
        item.save()
    else:
        _save_versioned(item, expected_version)
    return item


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
    """Add a line to a fund with its award entry, which waits for approval: `allocations_create()`
    with one line, so the line form and an import check and write alike."""
    line = NewLine(
        line_number=line_number,
        organisation=organisation,
        thematic_area=thematic_area,
        funding_category=funding_category,
        amount=amount,
        service=service,
        source_text=source_text,
        notes=notes,
        effective_date=effective_date,
    )
    try:
        (allocation,) = allocations_create(fund=fund, lines=[line], memo=memo, acting_user=acting_user)
    except RowsRefused as refused:
        raise _the_one(refused) from None
    return allocation


@_audited(reason_from="reason")
def allocation_update(
    *, allocation: Allocation, acting_user: User, expected_version: int | None = None, reason: str = ""
) -> Allocation:
    """Save the descriptive fields of a line (organisation, service, categories, notes).

    Its money changes only through `allocation_set_amount()`. A form passes `expected_version`, the
    version it was opened at: if someone has saved the line since, the save is refused, not merged
    (`check_and_bump_version`).

    On a line with approved money, a change of organisation, service, funding category or thematic
    area moves money or its payee, so it is not saved: it becomes a `LineChange` awaiting approval
    by someone else (`line_change_approve`), with `reason` saying why; the line's other fields are
    saved as usual. Returns the line as it now stands (`selectors.pending_line_change()` says
    whether a change awaits approval).
    """
    if allocation.pk is None:
        raise ValueError("allocation_update() changes an existing line; use allocation_create()")
    # Locks are always taken fund first, then line (see _lock_allocation).
    _lock_open_fund(Allocation.objects.values_list("fund_id", flat=True).get(pk=allocation.pk))
    recorded = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.fund_id != recorded.fund_id:
        raise ValidationError(
            {"fund": "A line cannot move to another fund: its ledger entries belong to this one."}
        )
    if expected_version is not None and expected_version != recorded.version:
        # Said before any proposal is written; the save below checks again in the same statement.
        raise ValidationError(changed_since_opened_message(recorded))
    allocation.service = allocation.service.strip()
    allocation.full_clean()
    controlled = [
        name
        for name in LineChange.CONTROLLED_FIELDS
        if _field_value(allocation, name) != _field_value(recorded, name)
    ]
    if controlled and line_change_needed(recorded):
        _line_change_propose(allocation=allocation, recorded=recorded, reason=reason, acting_user=acting_user)
        for name in LineChange.CONTROLLED_FIELDS:
            setattr(allocation, _attname(name), _field_value(recorded, name))
    _save_versioned(allocation, recorded.version)
    return allocation


def _attname(name: str, model: type[models.Model] = Allocation) -> str:
    return model._meta.get_field(name).attname


def _field_value(row, name: str, model: type[models.Model] = Allocation):
    return getattr(row, _attname(name, model))


def line_change_needed(allocation: Allocation) -> bool:
    """Whether a change of the line's provider, service, category or area must await approval:
    the line has approved money."""
    return LedgerEntry.objects.filter(allocation=allocation.pk).approved().exists()


def line_change_refusal(allocation: Allocation) -> str | None:
    """Why the line's provider, service, category or area cannot change now, if so: a change to it
    already awaits approval."""
    waiting = (
        LineChange.objects.pending().select_related("proposed_by").filter(allocation=allocation.pk).first()
    )
    return None if waiting is None else line_change_pending_message(waiting)


LINE_CHANGE_REASON_NEEDED = (
    "This line has approved money, so the change awaits approval: say why it is needed "
    "(the approver reads it)."
)


def line_change_pending_message(change: LineChange) -> str:
    return (
        f"A change to this line proposed by {change.proposed_by} on "
        f"{timezone.localtime(change.proposed_at):%d %B %Y} awaits approval: it must be approved, "
        "rejected or withdrawn before the line's provider, service, category or area can change again."
    )


def _line_change_propose(*, allocation: Allocation, recorded: Allocation, reason: str, acting_user: User):
    """Record the change `allocation` carries (against the line as `recorded`) as awaiting approval."""
    if _user_or_none(acting_user) is None:
        raise ValidationError(
            "This line has approved money, so a change to its provider, service, category or area "
            "needs a signed-in person to propose it and another to approve it."
        )
    refusal = line_change_refusal(recorded)
    if refusal:
        raise ValidationError(refusal)
    if not reason.strip():
        raise ValidationError({"reason": LINE_CHANGE_REASON_NEEDED})
    change = LineChange(
        allocation_id=recorded.pk,
        fund_id=recorded.fund_id,
        reason=reason.strip(),
        proposed_by=acting_user,
        **{_attname(name): _field_value(allocation, name) for name in LineChange.CONTROLLED_FIELDS},
        **{f"was_{_attname(name)}": _field_value(recorded, name) for name in LineChange.CONTROLLED_FIELDS},
    )
    change.full_clean()
    change.save()
    return change


def allocation_awarded(allocation: Allocation, approval: Approval = Approval.APPROVED) -> Money:
    """The allocation's amount now: the sum of its approved award and variations (or of those
    pending, or of all recorded)."""
    lines = Allocation.objects.with_awarded(approval)
    return money.from_aggregate(lines.values_list("awarded", flat=True).get(pk=allocation.pk))


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
    a variation for the difference, which waits for approval: `allocation_amounts_set()` with one
    change, so the amount form and an import check and write alike.

    Returns the variation, or None when the amount is unchanged. The earlier entries stay as they are.
    A form passes `expected_current`, the amount it showed: if someone has changed the line since,
    the change is refused rather than silently undoing theirs.
    """
    change = AmountChange(
        allocation=allocation, amount=amount, effective_date=effective_date, expected_current=expected_current
    )
    try:
        (variation,) = allocation_amounts_set(changes=[change], memo=memo, acting_user=acting_user)
    except RowsRefused as refused:
        raise _the_one(refused) from None
    return variation


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
    """Lock the line's fund (refusing a submitted one), then the line.

    Every write takes its locks in that order, fund before line (an import locks the fund and then
    its lines), so two writes never wait for each other in a circle. A line never changes fund, so
    its fund can be read before either lock is held.
    """
    _lock_open_fund(Allocation.objects.values_list("fund_id", flat=True).get(pk=allocation.pk))
    return Allocation.objects.select_for_update().get(pk=allocation.pk)


# ---- Limits: entries awaiting approval count in whichever direction is safer -------------------------
#
# Each limit compares what uses headroom with what gives it. An entry awaiting approval that uses
# headroom counts at once; one that would give headroom (a reversal of a payment, a reduction of an
# award) counts only once approved. Rejected and withdrawn entries never count.


@dataclass(frozen=True)
class LineLimits:
    """A line's money as its limits see it (README, "Financial controls")."""

    award: Money  # approved award and variations, less reductions awaiting approval
    paid_most: Money  # approved payments, and payments awaiting approval
    paid_least: Money  # approved payments, less reversals awaiting approval
    returned_most: Money  # approved underspend returned, and returns awaiting approval

    def problem(self) -> str | None:
        """What breaks a limit, if anything."""
        if self.paid_most.amount > self.award.amount:
            return (
                f"Payments would come to {money.format_gbp(self.paid_most)}, more than the approved "
                f"award of {money.format_gbp(self.award)}{_COUNTING}"
            )
        if self.returned_most.amount > self.paid_least.amount:
            return (
                f"Underspend returned would come to {money.format_gbp(self.returned_most)}, more than "
                f"the {money.format_gbp(self.paid_least)} paid{_COUNTING}"
            )
        return None


_COUNTING = (
    " (entries awaiting approval count at once where they use up the limit, and only once approved "
    "where they would free it)."
)


def _pending(sign: str) -> Q:
    return Q(approved_at__isnull=True, rejected_at__isnull=True, **{f"amount__{sign}": 0})


_APPROVED = Q(approved_at__isnull=False)


def _safe_sum(kinds: list[str], frees_when: str) -> Sum:
    """The sum of approved entries of `kinds`, with those awaiting approval that use headroom:
    `frees_when` is the sign ("gt" or "lt") of the pending amounts that would free it instead."""
    uses = "lt" if frees_when == "gt" else "gt"
    return Sum("amount", filter=Q(kind__in=kinds) & (_APPROVED | _pending(uses)))


def line_limits(allocation_ids) -> dict[int, LineLimits]:
    """Each line's `LineLimits`, in one query whatever the number of lines."""
    kinds = LedgerEntry.Kind
    rows = (
        LedgerEntry.objects.filter(allocation__in=allocation_ids)
        .order_by()
        .values("allocation")
        .annotate(
            award=_safe_sum(kinds.awarded_kinds(), frees_when="gt"),
            paid_most=_safe_sum([kinds.PAYMENT], frees_when="lt"),
            paid_least=_safe_sum([kinds.PAYMENT], frees_when="gt"),
            returned_most=_safe_sum([kinds.UNDERSPEND_RETURNED], frees_when="lt"),
        )
    )
    found = {
        row["allocation"]: LineLimits(
            **{
                name: money.from_aggregate(row[name])
                for name in ("award", "paid_most", "paid_least", "returned_most")
            }
        )
        for row in rows
    }
    empty = LineLimits(money.zero(), money.zero(), money.zero(), money.zero())
    return {allocation_id: found.get(allocation_id, empty) for allocation_id in allocation_ids}


def _refuse_if_limits_broken(allocation_ids, prefix: str) -> None:
    for limits in line_limits(list(allocation_ids)).values():
        problem = limits.problem()
        if problem:
            raise ValidationError(f"{prefix}{problem}")


def fund_holds(fund: Fund) -> Money:
    """What the office still holds of the fund, as the limit on returning money to the funder sees
    it: the control total, less payments to providers, plus underspend they returned, less money
    already returned to the funder; entries awaiting approval counted in whichever direction is
    safer. Three queries whatever the fund's size: its groups' stored figures, its own, and its
    entries awaiting approval (few, and indexed)."""
    kinds = LedgerEntry.Kind
    groups = GroupFigures.objects.filter(fund=fund).aggregate(paid=Sum("paid"), returned=Sum("returned"))
    own = FundFigures.objects.filter(fund=fund).values_list("returned_to_funder", flat=True).first()
    # The stored figures count every entry not rejected; take back those awaiting approval that the
    # safe reading leaves out: payment reversals, underspend, and reversals of returns to the funder.
    waiting = (
        LedgerEntry.objects.filter(fund=fund)
        .pending()
        .aggregate(
            payment_reversals=Sum("amount", filter=Q(kind=kinds.PAYMENT, amount__lt=0)),
            underspend=Sum("amount", filter=Q(kind=kinds.UNDERSPEND_RETURNED, amount__gt=0)),
            return_reversals=Sum("amount", filter=Q(kind=kinds.RETURNED_TO_FUNDER, amount__lt=0)),
        )
    )
    paid = money.difference(
        money.from_aggregate(groups["paid"]), money.from_aggregate(waiting["payment_reversals"])
    )
    returned = money.difference(
        money.from_aggregate(groups["returned"]), money.from_aggregate(waiting["underspend"])
    )
    to_funder = money.difference(money.from_aggregate(own), money.from_aggregate(waiting["return_reversals"]))
    return money.total([fund.control_total, -paid, returned, -to_funder])


def _record_movement(allocation, kind, value, effective_date, reference, memo, acting_user) -> LedgerEntry:
    """A payment or returned underspend on a line already locked and checked."""
    return _record_entry(
        fund=allocation.fund,
        allocation=allocation,
        kind=kind,
        amount=value,
        effective_date=effective_date,
        reference=reference,
        memo=memo,
        acting_user=acting_user,
    )


def payee_change_pending_message(change: LineChange) -> str:
    return (
        f"A change of this line's provider (from {change.was_organisation} to {change.organisation}) "
        f"proposed by {change.proposed_by} awaits approval; payments wait until it is approved or "
        "rejected."
    )


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
    """Record a payment to the provider. Refused while a change of the line's provider awaits
    approval, and if it would take the line's payments (approved, or awaiting approval) above its
    approved award (less reductions awaiting approval)."""
    value, reference = _money_movement(amount, reference)
    allocation = _lock_allocation(allocation)
    payee_change = (
        LineChange.objects.pending()
        .filter(allocation=allocation)
        .exclude(organisation=F("was_organisation"))
        .select_related("organisation", "was_organisation", "proposed_by")
        .first()
    )
    if payee_change is not None:
        raise ValidationError(payee_change_pending_message(payee_change))
    limits = line_limits([allocation.pk])[allocation.pk]
    room = money.difference(limits.award, limits.paid_most)
    if value.amount > room.amount:
        raise ValidationError(
            {
                "amount": f"{money.format_gbp(value)} is more than is left to pay on this line: the approved "
                f"award is {money.format_gbp(limits.award)}, of which "
                f"{money.format_gbp(limits.paid_most)} is already paid, so at most "
                f"{money.format_gbp(max(room, money.zero()))} can be paid{_COUNTING}"
            }
        )
    return _record_movement(
        allocation,
        LedgerEntry.Kind.PAYMENT,
        value,
        effective_date,
        reference,
        memo.strip() or "Payment to provider",
        acting_user,
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
    limits = line_limits([allocation.pk])[allocation.pk]
    held = money.difference(limits.paid_least, limits.returned_most)
    if value.amount > held.amount:
        raise ValidationError(
            {
                "amount": f"{money.format_gbp(value)} is more than the provider holds from this line: "
                f"{money.format_gbp(limits.paid_least)} paid, "
                f"{money.format_gbp(limits.returned_most)} already returned{_COUNTING}"
            }
        )
    return _record_movement(
        allocation,
        LedgerEntry.Kind.UNDERSPEND_RETURNED,
        value,
        effective_date,
        reference,
        memo.strip() or "Underspend returned by provider",
        acting_user,
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
    """Record money the office sends back to the funder (unspent grant). Refused if it is more than
    the office holds of the fund (`fund_holds`)."""
    value, reference = _money_movement(amount, reference)
    fund = _lock_open_fund(fund.pk)
    held = fund_holds(fund)
    if value.amount > held.amount:
        raise ValidationError(
            {
                "amount": f"{money.format_gbp(value)} is more than the office holds of this fund: "
                f"{money.format_gbp(max(held, money.zero()))} (the control total, less payments to "
                f"providers, plus underspend they returned, less money already returned){_COUNTING}"
            }
        )
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


def _lock_entry_scope(entry: LedgerEntry) -> None:
    """Lock what the entry's money belongs to: its line (and fund), or its fund."""
    if entry.allocation_id is not None:
        _lock_allocation(entry.allocation)
    else:
        _lock_open_fund(entry.fund_id)


@_audited(reason_from="memo")
def entry_reverse(*, entry: LedgerEntry, memo: str, acting_user: User) -> LedgerEntry:
    """Cancel a mistaken approved entry with one of the same kind and the opposite amount, linked to it.

    Both stay visible. The reversal waits for approval like any entry, and until then frees nothing
    (a reversed payment leaves nothing more to pay until the reversal is approved). Refused for an
    entry awaiting approval (withdraw or reject it instead), for a rejected one, for a reversal
    itself (record the entry again instead), for an entry already reversed, and where the line's
    money would break a limit (a payment reversed below what the provider has returned, say).
    """
    if not memo.strip():
        raise ValidationError({"memo": "Say why the entry is being reversed; the reason is kept with it."})
    _lock_entry_scope(entry)
    entry = LedgerEntry.objects.select_related("fund", "allocation").get(pk=entry.pk)
    if entry.is_reversal:
        raise ValidationError("This entry is itself a reversal; to restore the original, record it again.")
    if entry.is_rejected:
        raise ValidationError(
            "This entry was rejected or withdrawn, so it counts for nothing: there is nothing to reverse."
        )
    if not entry.is_approved:
        raise ValidationError(
            "This entry awaits approval: its recorder can withdraw it, or an approver reject it, instead."
        )
    if LedgerEntry.objects.filter(reverses=entry).counted().exists():
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
        _refuse_if_limits_broken([entry.allocation_id], "This reversal cannot be recorded: ")
    return reversal


def self_approval_message() -> str:
    return "You recorded this entry, so someone else must approve it (four-eyes rule)."


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"


def _decision_problem(item, author_id: int | None, decision: Decision, acting_user, noun: str) -> str | None:
    """Why `acting_user` may not take `decision` on `item` (an entry or a proposed change), if so."""
    if item.approved_at is not None:
        return f"This {noun} is already approved."
    if item.rejected_at is not None:
        return f"This {noun} was already {'withdrawn' if item.rejected_by_id == author_id else 'rejected'}."
    mine = author_id == acting_user.pk
    if decision is Decision.WITHDRAW and not mine:
        return f"Only who recorded this {noun} can withdraw it; an approver can reject it."
    if decision is not Decision.WITHDRAW and mine:
        if noun == "entry":
            return self_approval_message()
        return (
            f"You proposed this {noun}, so someone else must approve or reject it (four-eyes rule); "
            "you can withdraw it."
        )
    return None


def _decision_columns(decision: Decision, acting_user, reason: str, now) -> dict:
    if decision is Decision.APPROVE:
        return {"approved_by": acting_user, "approved_at": now}
    return {"rejected_by": acting_user, "rejected_at": now, "rejection_reason": reason}


def _decided_message(decision: Decision) -> str:
    return {
        Decision.APPROVE: "Approved",
        Decision.REJECT: "Rejected",
        Decision.WITHDRAW: "Withdrawn",
    }[decision]


@dataclass(frozen=True)
class Decided:
    """What `decisions_take` did."""

    entries: list[LedgerEntry]
    changes: list[LineChange]


@_refusals_recorded
def decisions_take(
    *,
    decision: Decision,
    acting_user: AbstractBaseUser,
    entries: list[LedgerEntry] = (),
    changes: list[LineChange] = (),
    reason: str = "",
) -> Decided:
    """Approve, reject or withdraw entries and proposed line changes: all of them or, if any one
    may not be decided so, none (`RowsRefused`, entries first, then changes, in the order given).

    Approving and rejecting are for someone other than the recorder or proposer; withdrawing is for
    them alone. A rejection or withdrawal needs a reason. Nothing on a fund whose return is
    submitted. The funds and then the lines concerned are locked first, in a fixed order; the
    checks and writes take a fixed number of queries however many rows are decided.
    """
    if acting_user is None or not acting_user.is_authenticated:
        raise ValidationError("A decision needs a signed-in person.")
    reason = reason.strip()
    if decision is not Decision.APPROVE and not reason:
        raise ValidationError({"reason": f"Say why; the reason is kept with what you {decision.value}."})
    with (
        transaction.atomic(),
        audit.context(user=acting_user, reason=reason or _decided_message(decision)),
    ):
        entry_ids = [entry.pk for entry in entries]
        change_ids = [change.pk for change in changes]
        line_ids = set(
            LedgerEntry.objects.filter(pk__in=entry_ids, allocation__isnull=False).values_list(
                "allocation", flat=True
            )
        ) | set(LineChange.objects.filter(pk__in=change_ids).values_list("allocation", flat=True))
        fund_ids = set(LedgerEntry.objects.filter(pk__in=entry_ids).values_list("fund", flat=True)) | set(
            LineChange.objects.filter(pk__in=change_ids).values_list("fund", flat=True)
        )
        for fund_id in sorted(fund_ids):
            _lock_open_fund(fund_id)
        list(Allocation.objects.select_for_update().filter(pk__in=line_ids).order_by("pk").values_list("pk"))
        found_entries = LedgerEntry.objects.in_bulk(entry_ids)
        found_changes = LineChange.objects.select_related("allocation").in_bulk(change_ids)
        problems = _Problems()
        for index, entry_id in enumerate(entry_ids):
            entry = found_entries.get(entry_id)
            problem = (
                "This entry is not in the ledger."
                if entry is None
                else _decision_problem(entry, entry.recorded_by_id, decision, acting_user, "entry")
            )
            if problem:
                problems.add(index, problem)
        for offset, change_id in enumerate(change_ids, start=len(entry_ids)):
            change = found_changes.get(change_id)
            problem = (
                "This proposed change is not in the ledger."
                if change is None
                else _decision_problem(
                    change, change.proposed_by_id, decision, acting_user, "proposed change"
                )
            )
            if problem:
                problems.add(offset, problem)
        problems.raise_any()
        columns = _decision_columns(decision, acting_user, reason, timezone.now())
        # The one change these append-only rows take, once (the database's guards let nothing else by).
        undecided = {"approved_at__isnull": True, "rejected_at__isnull": True}
        models.QuerySet.update(LedgerEntry.objects.filter(pk__in=entry_ids, **undecided), **columns)
        if decision is Decision.APPROVE:
            for change_id in change_ids:
                _line_change_apply(found_changes[change_id])
        LineChange.objects.filter(pk__in=change_ids, **undecided).update(**columns)
        if decision is Decision.APPROVE and entry_ids:
            _refuse_if_limits_broken(
                {entry.allocation_id for entry in found_entries.values() if entry.allocation_id},
                "This cannot be approved yet: ",
            )
        decided_entries = [found_entries[entry_id] for entry_id in entry_ids]
        decided_changes = [found_changes[change_id] for change_id in change_ids]
        for item in [*decided_entries, *decided_changes]:
            for column, value in columns.items():
                setattr(item, column, value)
    return Decided(entries=decided_entries, changes=decided_changes)


def _line_change_apply(change: LineChange) -> None:
    """Make the line what the approved change says, as a saved correction would (version bumped),
    if the fund's lines still allow it (one line per organisation and service)."""
    allocation = Allocation.objects.get(pk=change.allocation_id)
    for name in LineChange.CONTROLLED_FIELDS:
        setattr(allocation, _attname(name), _field_value(change, name))
    try:
        allocation.full_clean()
    except ValidationError as error:
        raise ValidationError(
            f"Line {allocation.line_number} cannot take this change: {' '.join(error.messages)}"
        ) from error
    allocation.version += 1
    allocation.save()


def _decide_one(item, decision: Decision, acting_user, reason: str = ""):
    kind = "entries" if isinstance(item, LedgerEntry) else "changes"
    try:
        decided = decisions_take(decision=decision, acting_user=acting_user, reason=reason, **{kind: [item]})
    except RowsRefused as refused:
        raise _the_one(refused) from None
    return getattr(decided, kind)[0]


def entry_approve(*, entry: LedgerEntry, acting_user: AbstractBaseUser) -> LedgerEntry:
    """Approve an entry recorded by someone else. From then it counts in the approved totals.

    Refused for the person who recorded it (the database refuses it too), for an entry already
    approved, rejected or withdrawn, on a fund whose return is submitted, and where approving would
    break one of the line's limits."""
    return _decide_one(entry, Decision.APPROVE, acting_user)


def entry_reject(*, entry: LedgerEntry, reason: str, acting_user: AbstractBaseUser) -> LedgerEntry:
    """Reject an entry recorded by someone else, with a reason: it stays on record and never counts."""
    return _decide_one(entry, Decision.REJECT, acting_user, reason)


def entry_withdraw(*, entry: LedgerEntry, reason: str, acting_user: AbstractBaseUser) -> LedgerEntry:
    """Withdraw an entry one recorded oneself, before it is approved: it stays on record, never counts."""
    return _decide_one(entry, Decision.WITHDRAW, acting_user, reason)


def line_change_approve(*, change: LineChange, acting_user: AbstractBaseUser) -> LineChange:
    """Approve a change to a line proposed by someone else: the line takes it now."""
    return _decide_one(change, Decision.APPROVE, acting_user)


def line_change_reject(*, change: LineChange, reason: str, acting_user: AbstractBaseUser) -> LineChange:
    return _decide_one(change, Decision.REJECT, acting_user, reason)


def line_change_withdraw(*, change: LineChange, reason: str, acting_user: AbstractBaseUser) -> LineChange:
    return _decide_one(change, Decision.WITHDRAW, acting_user, reason)


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
    """Add a provider: `organisations_create()` with one. Names are unique ignoring case, so the same
    body is never entered twice."""
    new = NewProvider(
        name=name,
        short_name=short_name,
        charity_number=charity_number,
        company_number=company_number,
        org_identifier=org_identifier,
        notes=notes,
    )
    try:
        (organisation,) = organisations_create(organisations=[new], acting_user=acting_user)
    except RowsRefused as refused:
        raise _the_one(refused) from None
    return organisation


@_audited()
def organisation_update(
    *, organisation: Organisation, acting_user: User, expected_version: int | None = None
) -> Organisation:
    """Save corrections to a provider's details, trimmed and validated as when it was added.

    Allowed on a fund whose return is submitted: the submitted workbook keeps the name it was sent
    with, and the fund's page says where a name has changed since (`selectors.names_changed_since`).
    With `expected_version`, refused if someone saved the provider since the form was opened."""
    for field in ("name", "short_name", "charity_number", "company_number", "org_identifier"):
        setattr(organisation, field, getattr(organisation, field).strip())
    organisation.full_clean()
    _save_versioned(organisation, expected_version)
    return organisation


# ---- Many rows at once ------------------------------------------------------------------------------
#
# `full_clean()` checks each CHECK and UNIQUE constraint with a query of its own, and each foreign key
# with another: about 25 queries for a line and its award. The services below check a batch of rows in
# a fixed number of queries instead (field rules in Python, each foreign key and each uniqueness rule
# with one query for the whole batch, the CHECK rules in Python), collect every row's problems, and
# write with `bulk_create()`. The database's constraints stay the final guard. The one-row services
# (`allocation_create`, `allocation_set_amount`, `organisation_create`) call these with one row, so a
# form and an import go through the same checks and the same writes.


class RowsRefused(ValidationError):
    """Some rows of a batch are refused; nothing was written. `rows` maps each refused row's index in
    the batch to its ValidationError (with its field names, as the one-row service would raise it)."""

    def __init__(self, rows: dict[int, ValidationError]):
        self.rows = dict(sorted(rows.items()))
        super().__init__(list(self.rows.values()))


class _Problems:
    """Every row's problems, as `{field: [ValidationError]}` per row index, gathered before any write."""

    def __init__(self):
        self.by_row: dict[int, dict[str, list]] = {}

    def add(self, index: int, error: ValidationError | dict | str, field: str = NON_FIELD_ERRORS) -> None:
        if isinstance(error, str | dict):
            error = ValidationError(error if isinstance(error, dict) else {field: error})
        elif not hasattr(error, "error_dict"):
            error = ValidationError({field: error.error_list})
        self.by_row[index] = error.update_error_dict(self.by_row.setdefault(index, {}))

    def raise_any(self) -> None:
        if self.by_row:
            raise RowsRefused({index: ValidationError(errors) for index, errors in self.by_row.items()})


def _clean_rows(
    instances: list[models.Model],
    problems: _Problems,
    *,
    references: tuple[str, ...],
    indexes: list[int] | None = None,
) -> None:
    """What `full_clean()` finds wrong with each unsaved instance except its constraints (the callers
    check those rules for the whole batch): field by field in Python, then each foreign key in
    `references` with one query for all the rows instead of one a row. `indexes` gives each
    instance's row in the batch, where they differ from its position."""
    if not instances:
        return
    indexes = indexes or list(range(len(instances)))
    for index, instance in zip(indexes, instances, strict=True):
        try:
            instance.full_clean(exclude=references, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            problems.add(index, error)
    model = type(instances[0])
    for name in references:
        field = model._meta.get_field(name)
        values = {getattr(instance, field.attname) for instance in instances} - {None}
        target = field.remote_field
        found = set()
        if values:
            found = set(
                target.model._base_manager.using(router.db_for_write(model))
                .complex_filter(field.get_limit_choices_to())
                .filter(**{f"{target.field_name}__in": values})
                .values_list(target.field_name, flat=True)
            )
        for index, instance in zip(indexes, instances, strict=True):
            value = getattr(instance, field.attname)
            if value is None and not field.null:
                problems.add(index, ValidationError(field.error_messages["null"], code="null"), name)
            elif value is not None and value not in found:
                problems.add(
                    index,
                    ValidationError(
                        field.error_messages["invalid"],
                        code="invalid",
                        params={
                            "model": target.model._meta.verbose_name,
                            "pk": value,
                            "field": target.field_name,
                            "value": value,
                        },
                    ),
                    name,
                )


def _constraint_message(model: type[models.Model], name: str) -> str:
    """A constraint's own message, so a rule checked in Python reads as when the database refuses it."""
    constraint = next(item for item in model._meta.constraints if item.name == name)
    return constraint.get_violation_error_message()


def _check_entry_rules(entries: list[LedgerEntry], problems: _Problems, *, indexes: list[int]) -> None:
    """LedgerEntry's CHECK constraints, in Python, for entries about to be recorded. The amount's
    currency, pence and size are `_as_money()`'s; the approval rules hold for a new entry (never
    approved when recorded)."""
    for index, entry in zip(indexes, entries, strict=True):
        kind, amount = entry.kind, entry.amount.amount
        # The allocation may be unsaved (its award is checked before either is written); never fetch it.
        on_allocation = entry.allocation_id is not None or (
            LedgerEntry.allocation.is_cached(entry) and entry.allocation is not None
        )
        if (kind == LedgerEntry.Kind.RETURNED_TO_FUNDER) == on_allocation:
            problems.add(
                index,
                _constraint_message(
                    LedgerEntry, "ledger_entry_is_on_an_allocation_unless_returned_to_funder"
                ),
            )
        signed_right = amount > 0 if entry.reverses_id is None else amount < 0
        if kind != LedgerEntry.Kind.VARIATION and not signed_right:
            problems.add(
                index,
                _constraint_message(LedgerEntry, "ledger_entry_is_positive_unless_a_reversal_or_variation"),
            )
        if kind == LedgerEntry.Kind.VARIATION and amount == 0:
            problems.add(index, _constraint_message(LedgerEntry, "ledger_entry_variation_is_not_zero"))
        if kind in LedgerEntry.Kind.referenced_kinds() and not entry.reference:
            problems.add(
                index, _constraint_message(LedgerEntry, "ledger_entry_money_movement_has_a_reference")
            )
        if entry.approved_by_id is not None or entry.approved_at is not None:
            problems.add(index, "A new entry waits for approval; it is not recorded approved.")


@dataclass(frozen=True)
class NewLine:
    """One line for `allocations_create()`: what the line form asks for."""

    line_number: int
    organisation: Organisation
    thematic_area: ThematicArea
    funding_category: FundingCategory
    amount: Money | Decimal | str
    service: str = ""
    source_text: str = ""
    notes: str = ""
    effective_date: datetime.date | None = None


@_audited(reason_from="memo")
def allocations_create(*, fund: Fund, lines: list[NewLine], memo: str, acting_user: User) -> list[Allocation]:
    """Add lines to a fund, each with its award entry, which waits for approval: all of them or, if
    any row has a problem, none (`RowsRefused` lists every refused row with all its problems).

    The fund is locked and checked open once; line numbers and (organisation, service) pairs are
    checked against the fund's lines with one query and against each other in memory.
    """
    fund = _lock_open_fund(fund.pk)
    problems = _Problems()
    recorded_by = _user_or_none(acting_user)
    memo = memo.strip() or "Award"
    today = timezone.localdate()
    allocations: list[Allocation] = []
    awards: dict[int, LedgerEntry] = {}
    for index, line in enumerate(lines):
        allocation = Allocation(
            fund=fund,
            line_number=line.line_number,
            organisation=line.organisation,
            service=line.service.strip(),
            thematic_area=line.thematic_area,
            funding_category=line.funding_category,
            source_text=line.source_text,
            notes=line.notes,
        )
        allocations.append(allocation)
        try:
            award = _as_money(line.amount, "amount")
        except ValidationError as error:
            problems.add(index, error)
            continue
        if award.amount <= 0:
            problems.add(index, {"amount": "An award must be more than £0.00."})
            continue
        awards[index] = LedgerEntry(
            fund=fund,
            allocation=allocation,
            kind=LedgerEntry.Kind.AWARD,
            amount=award,
            effective_date=line.effective_date or today,
            memo=memo,
            recorded_by=recorded_by,
        )
    _clean_rows(
        allocations, problems, references=("fund", "organisation", "thematic_area", "funding_category")
    )
    _check_line_identity(fund, allocations, problems)
    # Each award's allocation is written just before it (bulk_create gives it its primary key).
    indexes, entries = list(awards), list(awards.values())
    _clean_rows(entries, problems, references=("fund", "recorded_by"), indexes=indexes)
    _check_entry_rules(entries, problems, indexes=indexes)
    problems.raise_any()
    Allocation.objects.bulk_create(allocations)
    LedgerEntry.objects.bulk_create(entries)
    return allocations


def _check_line_identity(fund: Fund, allocations: list[Allocation], problems: _Problems) -> None:
    """The fund's two uniqueness rules for new lines: one query for the fund's lines, then memory."""
    numbers, pairs = {}, {}
    for number, organisation_id, service in Allocation.objects.filter(fund=fund).values_list(
        "line_number", "organisation_id", "service"
    ):
        numbers[number], pairs[(organisation_id, service)] = None, None
    number_taken = _constraint_message(Allocation, "allocation_line_number_is_unique_within_its_fund")
    pair_taken = _constraint_message(Allocation, "allocation_organisation_service_is_unique_within_its_fund")
    for index, allocation in enumerate(allocations):
        number = allocation.line_number
        if isinstance(number, int) and number <= 0:
            problems.add(index, _constraint_message(Allocation, "allocation_line_number_is_positive"))
        if number in numbers:
            first = numbers[number]
            problems.add(
                index, number_taken if first is None else f"Line {number} appears twice in this batch."
            )
        elif number is not None:
            numbers[number] = index
        pair = (allocation.organisation_id, allocation.service)
        if pair in pairs:
            first = pairs[pair]
            problems.add(
                index,
                pair_taken
                if first is None
                else "This batch has two lines for that organisation and service.",
            )
        elif allocation.organisation_id is not None:
            pairs[pair] = index


@dataclass(frozen=True)
class AmountChange:
    """One line's new amount for `allocation_amounts_set()`; `expected_current` is the amount the
    person saw, if the change must be refused when someone has changed the line since."""

    allocation: Allocation
    amount: Money | Decimal | str
    effective_date: datetime.date | None = None
    expected_current: Money | Decimal | str | None = None


@_audited(reason_from="memo")
def allocation_amounts_set(
    *, changes: list[AmountChange], memo: str, acting_user: User
) -> list[LedgerEntry | None]:
    """Bring each line's recorded amount (approved and pending entries) to its new amount with a
    variation for the difference, which waits for approval: all of them or, if any row has a
    problem, none (`RowsRefused`). Returns each change's variation, or None where the amount is
    unchanged.

    The lines are locked (one query), then their funds, each checked open once; the current amounts
    are summed in one query.
    """
    problems = _Problems()
    targets: dict[int, Money] = {}
    for index, change in enumerate(changes):
        try:
            target = _as_money(change.amount, "amount")
        except ValidationError as error:
            problems.add(index, error)
            continue
        if target.amount < 0:
            problems.add(index, {"amount": "An allocation cannot be varied below £0.00."})
        else:
            targets[index] = target
    # Lock the funds, then the lines (the order every write uses, see _lock_allocation), so a
    # concurrent change waits and then sees these entries.
    ids = [change.allocation.pk for change in changes]
    fund_of = dict(Allocation.objects.filter(pk__in=ids).values_list("pk", "fund_id"))
    for fund_id in sorted(set(fund_of.values())):
        _lock_open_fund(fund_id)
    list(Allocation.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    recorded = dict(
        Allocation.objects.filter(pk__in=ids).with_awarded(Approval.RECORDED).values_list("pk", "awarded")
    )
    memo = memo.strip()
    today = timezone.localdate()
    seen: set[int] = set()
    variations: dict[int, LedgerEntry] = {}
    reductions: dict[int, int] = {}
    for index, change in enumerate(changes):
        allocation_id = change.allocation.pk
        if allocation_id not in fund_of:
            problems.add(index, "This line is not in the ledger (it may have been deleted).")
            continue
        if allocation_id in seen:
            problems.add(index, {"amount": "This line's amount is changed twice in one batch."})
            continue
        seen.add(allocation_id)
        if index not in targets:
            continue
        current = money.from_aggregate(recorded[allocation_id])
        if change.expected_current is not None:
            try:
                expected = _as_money(change.expected_current, "amount")
            except ValidationError as error:
                problems.add(index, error)
                continue
            if expected != current:
                problems.add(index, {"amount": stale_amount_message(current)})
                continue
        difference = money.difference(targets[index], current)
        if difference.amount == 0:
            continue
        if difference.amount < 0:
            reductions[index] = allocation_id
        if not memo:
            problems.add(
                index, {"memo": "Say why the amount changed; the reason is kept with the variation."}
            )
            continue
        variations[index] = LedgerEntry(
            fund_id=fund_of[allocation_id],
            allocation_id=allocation_id,
            kind=LedgerEntry.Kind.VARIATION,
            amount=difference,
            effective_date=change.effective_date or today,
            memo=memo,
            recorded_by=_user_or_none(acting_user),
        )
    _check_reductions(reductions, variations, problems)
    indexes, entries = list(variations), list(variations.values())
    _clean_rows(entries, problems, references=("fund", "allocation", "recorded_by"), indexes=indexes)
    _check_entry_rules(entries, problems, indexes=indexes)
    problems.raise_any()
    LedgerEntry.objects.bulk_create(entries)
    return [variations.get(index) for index in range(len(changes))]


def _check_reductions(
    reductions: dict[int, int], variations: dict[int, LedgerEntry], problems: _Problems
) -> None:
    """A reduction counts at once (README, "Financial controls"): refuse one that would leave a
    line's payments, approved or awaiting approval, above its award. One query for all the lines."""
    limits = line_limits(list(reductions.values())) if reductions else {}
    for index, allocation_id in reductions.items():
        if index not in variations:
            continue
        line = limits[allocation_id]
        award = money.total([line.award, variations[index].amount])
        if line.paid_most.amount > award.amount:
            problems.add(
                index,
                {
                    "amount": f"{money.format_gbp(award)} is less than the "
                    f"{money.format_gbp(line.paid_most)} paid or awaiting approval on this line: payments "
                    "cannot exceed the award. Reverse a payment first (the reduction can follow once it "
                    "is approved)."
                },
            )


@dataclass(frozen=True)
class NewProvider:
    """One organisation for `organisations_create()`: what the organisation form asks for."""

    name: str
    short_name: str = ""
    charity_number: str = ""
    company_number: str = ""
    org_identifier: str = ""
    notes: str = ""


@_audited()
def organisations_create(*, organisations: list[NewProvider], acting_user: User) -> list[Organisation]:
    """Add providers: all of them or, if any row has a problem, none (`RowsRefused`). Names are unique
    ignoring case, checked against the ledger with one query and against each other in memory."""
    problems = _Problems()
    rows = [
        Organisation(
            name=new.name.strip(),
            short_name=new.short_name.strip(),
            charity_number=new.charity_number.strip(),
            company_number=new.company_number.strip(),
            org_identifier=new.org_identifier.strip(),
            notes=new.notes,
        )
        for new in organisations
    ]
    _clean_rows(rows, problems, references=())
    # Compared with Python's lower(): the same as the constraint's LOWER() on PostgreSQL, and stricter
    # than SQLite's (which lowers ASCII letters only), so a name the database would refuse never slips by.
    taken = {name.lower() for name in Organisation.objects.values_list("name", flat=True)}
    name_taken = _constraint_message(Organisation, "organisation_name_is_unique_ignoring_case")
    in_batch: set[str] = set()
    for index, organisation in enumerate(rows):
        key = organisation.name.lower()
        if key in taken:
            problems.add(index, name_taken)
        elif key in in_batch:
            problems.add(index, "This batch has two organisations with this name.")
        in_batch.add(key)
    problems.raise_any()
    return Organisation.objects.bulk_create(rows)


def _the_one(refused: RowsRefused) -> ValidationError:
    """The one-row services raise their row's error as it is, with its field names, for the forms."""
    return refused.rows[0]


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
    acting_user: User,
    expected_digest: str | None = None,
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
    sheet = read_workbook(content, file_name)
    with (
        transaction.atomic(),
        audit.context(user=_user_or_none(acting_user), reason=import_memo(file_name, sheet.sha256)),
    ):
        try:
            locked = _lock_open_fund(fund.pk)
        except ValidationError as error:
            raise ImportRefused([Problem(message) for message in error.messages]) from error
        plan = build_plan(locked, sheet, import_snapshot(locked))
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
                organisations=[
                    NewProvider(name=new.name, short_name=new.short_name) for new in plan.new_organisations
                ],
                acting_user=acting_user,
            )
        except ValidationError as error:
            refuse(error, [new.first_row for new in plan.new_organisations])
        created = {id(new): made for new, made in zip(plan.new_organisations, organisations, strict=True)}

    if new_lines := plan.new_lines:
        try:
            allocations_create(
                fund=fund,
                lines=[
                    NewLine(
                        line_number=line.line_number,
                        organisation=created.get(id(line.organisation), line.organisation),
                        service=line.service,
                        thematic_area=line.thematic_area,
                        funding_category=line.funding_category,
                        amount=line.amount,
                        source_text=line.source_text[:400],
                        effective_date=line.effective_date,
                    )
                    for line in new_lines
                ],
                memo=memo,
                acting_user=acting_user,
            )
        except ValidationError as error:
            refuse(error, [line.row for line in new_lines])

    if changed_lines := plan.changed_lines:
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
