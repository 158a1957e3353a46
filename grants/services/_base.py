"""What every service shares: the `_audited` decorator (atomic, who and why, refusals recorded as
`RefusedAttempt`s), amounts from callers (`_as_money`), the fund and line locks that refuse a fund whose
return is submitted, and the version check that stops lost updates."""

from __future__ import annotations

import functools
from contextvars import ContextVar
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models import F
from django.utils import timezone
from djmoney.money import Money

from audit.context import context as audit_context
from grants import money
from grants.imports import IMPORT_MEMO_PREFIX, ImportRefused
from grants.models import Allocation, Fund, RefusedAttempt, ReturnSubmission
from grants.selectors.funds import submission_in_force
from grants.years import in_words

OptionalUser = AbstractBaseUser | None


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


def _user_or_none(acting_user: OptionalUser):
    return acting_user if acting_user is not None and acting_user.is_authenticated else None


# Set while an import applies its file: only then may a memo name an import (IMPORT_MEMO_PREFIX), as the
# Approvals page finds an import's entries by their memo.
importing: ContextVar[bool] = ContextVar("ledger_importing", default=False)
IMPORT_MEMO_RESERVED = (
    f"A memo beginning “{IMPORT_MEMO_PREFIX.strip()}” is kept for the entries an import records; "
    "say what this entry is in other words."
)

# Services running in this context: only the outermost records a refusal, once.
_service_depth: ContextVar[int] = ContextVar("ledger_service_depth", default=0)


REFUSALS = (ValidationError, PermissionDenied, ImportRefused, IntegrityError)


def _audited(*, reason_from: str | None = None, reason: str = ""):
    """Make a service atomic and record, on every row it changes, who acted and why: the
    `acting_user` argument, and the reason given in the argument `reason_from` (or a fixed one).
    The database's audit triggers write the record in the same transaction (the audit app).
    A refusal is recorded too (`RefusedAttempt`), after the refused change has been rolled back."""

    def decorate(function):
        @functools.wraps(function)
        def atomic(*args, **kwargs):
            why = str(kwargs.get(reason_from) or "").strip() if reason_from else reason
            if reason_from == "memo" and why.startswith(IMPORT_MEMO_PREFIX) and not importing.get():
                raise ValidationError({"memo": IMPORT_MEMO_RESERVED})
            acting_user = _user_or_none(kwargs.get("acting_user"))
            with transaction.atomic(), audit_context(user=acting_user, reason=why):
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
    with transaction.atomic(), audit_context(user=acting_user, reason=message[:1000]):
        RefusedAttempt.objects.create(
            attempted_by=acting_user,
            action=action,
            target=target,
            fund_id=fund_id,
            allocation_id=allocation_id,
            message=message,
        )


def locked_message(submission: ReturnSubmission) -> str:
    submitted_at = timezone.localtime(submission.submitted_at)
    return (
        f"This fund's MoJ return was submitted (version {submission.version}, "
        f"{in_words(submitted_at)} {submitted_at:%H:%M}, by {submission.submitted_by}), "
        "so everything it reports is locked: the fund's details and category budgets, its allocations, "
        "entries, proposed changes and imports. An approver can reopen the fund, with a reason."
    )


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


def _lock_allocation(allocation: Allocation) -> Allocation:
    """Lock the line's fund (refusing a submitted one), then the line.

    Every write takes its locks in that order, fund before line (an import locks the fund and then
    its lines), so two writes never wait for each other in a circle. A line never changes fund, so
    its fund can be read before either lock is held.
    """
    _lock_open_fund(Allocation.objects.values_list("fund_id", flat=True).get(pk=allocation.pk))
    return Allocation.objects.select_for_update().get(pk=allocation.pk)


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


def _attname(name: str, model: type[models.Model] = Allocation) -> str:
    return model._meta.get_field(name).attname


def _field_value(row, name: str, model: type[models.Model] = Allocation):
    return getattr(row, _attname(name, model))
