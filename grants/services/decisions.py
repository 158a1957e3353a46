"""Approving, rejecting and withdrawing entries and proposed line changes (the four-eyes rule):
`decisions_take` for many at once, and the one-row services the pages call."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from audit.context import context as audit_context
from grants.models import Allocation, LedgerEntry, LineChange
from grants.services._base import _lock_open_fund, _refusals_recorded
from grants.services._batch import RowsRefused, _Problems, _the_one
from grants.services.limits import _refuse_if_limits_broken
from grants.services.line_changes import _line_change_apply


def self_approval_message() -> str:
    return "You recorded this entry, so someone else must approve it (four-eyes rule)."


# How a decision names a carry-forward: both its legs are decided together.
CARRY_FORWARD = "carry-forward (both its legs)"


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
        if noun == CARRY_FORWARD:
            return (
                "You recorded this carry-forward, so someone else must approve it (four-eyes rule); "
                "you can withdraw it."
            )
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
    submitted. A carry-forward is decided as a pair whichever leg is given: the service decides its
    in leg, and the database's trigger decides the out leg in the same statement. The funds and then
    the lines concerned are locked first, in a fixed order; the checks and writes take a fixed number
    of queries however many rows are decided.
    """
    if acting_user is None or not acting_user.is_authenticated:
        raise ValidationError("A decision needs a signed-in person.")
    reason = reason.strip()
    if decision is not Decision.APPROVE and not reason:
        raise ValidationError({"reason": f"Say why; the reason is kept with what you {decision.value}."})
    with (
        transaction.atomic(),
        audit_context(user=acting_user, reason=reason or _decided_message(decision)),
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
        # The entries, with the other leg of each carry-forward among them, in one query.
        found_entries = {
            entry.pk: entry
            for entry in LedgerEntry.objects.filter(
                models.Q(pk__in=entry_ids)
                | models.Q(carried_from__in=entry_ids)
                | models.Q(carried_to__in=entry_ids)
            )
        }
        found_changes = LineChange.objects.select_related("allocation").in_bulk(change_ids)
        # A carry-forward is decided through its in leg; the database decides its out leg with it.
        in_leg_of = {
            entry.carried_from_id: entry.pk for entry in found_entries.values() if entry.carried_from_id
        }
        deciding = [in_leg_of.get(entry_id, entry_id) for entry_id in entry_ids]
        problems = _Problems()
        for index, entry_id in enumerate(deciding):
            entry = found_entries.get(entry_id)
            noun = (
                "entry" if entry is None or entry.kind != LedgerEntry.Kind.CARRIED_FORWARD else CARRY_FORWARD
            )
            problem = (
                "This entry is not in the ledger."
                if entry is None
                else _decision_problem(entry, entry.recorded_by_id, decision, acting_user, noun)
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
        models.QuerySet.update(LedgerEntry.objects.filter(pk__in=deciding, **undecided), **columns)
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
        pairs = [found_entries[in_leg_of[entry_id]] for entry_id in entry_ids if entry_id in in_leg_of]
        pairs += [found_entries[entry.carried_from_id] for entry in decided_entries if entry.carried_from_id]
        for item in [*decided_entries, *decided_changes, *pairs]:
            for column, value in columns.items():
                setattr(item, column, value)
    return Decided(entries=decided_entries, changes=decided_changes)


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
