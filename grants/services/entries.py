"""Money moving on a line or a fund: payments to providers, underspend they return (and underspend
due from them before it arrives), money received from and returned to the funder, and reversals of
mistaken entries, each checked against its limit under a lock."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from djmoney.money import Money

from grants import money
from grants.models import Allocation, Fund, LedgerEntry, LineChange
from grants.services._base import (
    OptionalUser,
    _as_money,
    _audited,
    _lock_allocation,
    _lock_open_fund,
    _user_or_none,
)
from grants.services.limits import _COUNTING, LineLimits, _refuse_if_limits_broken, fund_holds, line_limits


def _record_entry(
    *,
    fund: Fund,
    allocation: Allocation | None,
    kind: str,
    amount: Money,
    effective_date: datetime.date,
    memo: str,
    acting_user: OptionalUser,
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


def _money_movement(
    amount,
    reference: str,
    reference_needed: str = "Give the payment or remittance reference, as on the remittance advice.",
) -> tuple[Money, str]:
    value = _as_money(amount, "amount")
    problems = {}
    if value.amount <= 0:
        problems["amount"] = "The amount must be more than £0.00."
    if not reference.strip():
        problems["reference"] = reference_needed
    if problems:
        raise ValidationError(problems)
    return value, reference.strip()


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
    acting_user: OptionalUser,
    memo: str = "",
) -> LedgerEntry:
    """Record a payment to the provider. Refused while a change of the line's provider awaits
    approval, and if it would take the line's payments (approved, or awaiting approval) above its
    approved award (less reductions awaiting approval)."""
    return _line_movement_record(
        allocation, LedgerEntry.Kind.PAYMENT, amount, effective_date, reference, memo, acting_user
    )


def _payment_check(allocation: Allocation, value: Money, limits: LineLimits) -> None:
    payee_change = (
        LineChange.objects.pending()
        .filter(allocation=allocation)
        .exclude(organisation=F("was_organisation"))
        .select_related("organisation", "was_organisation", "proposed_by")
        .first()
    )
    if payee_change is not None:
        raise ValidationError(payee_change_pending_message(payee_change))
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


@_audited(reason_from="memo")
def underspend_record(
    *,
    allocation: Allocation,
    amount: Money | Decimal | str,
    effective_date: datetime.date,
    reference: str,
    acting_user: OptionalUser,
    memo: str = "",
) -> LedgerEntry:
    """Record underspend the provider sent back. Refused if more would come back than was paid."""
    return _line_movement_record(
        allocation, LedgerEntry.Kind.UNDERSPEND_RETURNED, amount, effective_date, reference, memo, acting_user
    )


def _underspend_check(allocation: Allocation, value: Money, limits: LineLimits) -> None:
    held = money.difference(limits.paid_least, limits.returned_most)
    if value.amount > held.amount:
        raise ValidationError(
            {
                "amount": f"{money.format_gbp(value)} is more than the provider holds from this line: "
                f"{money.format_gbp(limits.paid_least)} paid, "
                f"{money.format_gbp(limits.returned_most)} already returned{_COUNTING}"
            }
        )


# Per kind of money moving on a line: what it is called when no memo says, and the check that refuses it.
_LINE_MOVEMENTS = {
    LedgerEntry.Kind.PAYMENT: ("Payment to provider", _payment_check),
    LedgerEntry.Kind.UNDERSPEND_RETURNED: ("Underspend returned by provider", _underspend_check),
}


def _line_movement_record(
    allocation, kind, amount, effective_date, reference, memo, acting_user
) -> LedgerEntry:
    """Money moving on a line: checked against its limits with the line locked, then recorded."""
    default_memo, check = _LINE_MOVEMENTS[kind]
    value, reference = _money_movement(amount, reference)
    allocation = _lock_allocation(allocation)
    check(allocation, value, line_limits([allocation.pk])[allocation.pk])
    return _record_movement(
        allocation, kind, value, effective_date, reference, memo.strip() or default_memo, acting_user
    )


@_audited(reason_from="memo")
def funder_return_record(
    *,
    fund: Fund,
    amount: Money | Decimal | str,
    effective_date: datetime.date,
    reference: str,
    acting_user: OptionalUser,
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
    return _fund_entry(
        fund, LedgerEntry.Kind.RETURNED_TO_FUNDER, value, effective_date, reference, memo, acting_user
    )


def _fund_entry(fund, kind, value, effective_date, reference, memo, acting_user) -> LedgerEntry:
    """Money between the office and the funder: an entry on the fund itself, already locked and
    checked; its memo is the kind's name when none is given."""
    return _record_entry(
        fund=fund,
        allocation=None,
        kind=kind,
        amount=value,
        effective_date=effective_date,
        reference=reference,
        memo=memo.strip() or LedgerEntry.Kind(kind).label,
        acting_user=acting_user,
    )


@_audited(reason_from="memo")
def funder_receipt_record(
    *,
    fund: Fund,
    amount: Money | Decimal | str,
    effective_date: datetime.date,
    reference: str,
    acting_user: OptionalUser,
    memo: str = "",
) -> LedgerEntry:
    """Record money the funder paid the office for the fund, with the funder's remittance reference.
    It waits for approval by someone else, and counts in what the office holds only once approved."""
    value, reference = _money_movement(
        amount, reference, "Give the funder's remittance reference, as on the remittance advice."
    )
    fund = _lock_open_fund(fund.pk)
    return _fund_entry(
        fund, LedgerEntry.Kind.RECEIVED_FROM_FUNDER, value, effective_date, reference, memo, acting_user
    )


@_audited(reason_from="memo")
def underspend_due_record(
    *,
    allocation: Allocation,
    amount: Money | Decimal | str,
    effective_date: datetime.date,
    memo: str,
    acting_user: OptionalUser,
    reference: str = "",
) -> LedgerEntry:
    """Record a sum the provider owes back (underspend declared at year end, say) before the cash
    arrives. Underspend returned on the line clears it (`grants.reconciliation.cash`); it moves no
    money itself, so it needs a reason but no reference. Refused if the line's underspend declared
    due (approved, or awaiting approval) would come to more than was paid to it."""
    value = _as_money(amount, "amount")
    problems = {}
    if value.amount <= 0:
        problems["amount"] = "The amount must be more than £0.00."
    if not memo.strip():
        problems["memo"] = "Say why the provider owes this, e.g. 'Underspend declared in the 2024-25 return'."
    if problems:
        raise ValidationError(problems)
    allocation = _lock_allocation(allocation)
    entry = _record_entry(
        fund=allocation.fund,
        allocation=allocation,
        kind=LedgerEntry.Kind.UNDERSPEND_DUE,
        amount=value,
        effective_date=effective_date,
        reference=reference.strip(),
        memo=memo.strip(),
        acting_user=acting_user,
    )
    # A provider cannot owe back more than it was paid (counting the declaration just recorded).
    _refuse_if_limits_broken([allocation.pk], "This underspend due cannot be recorded: ")
    return entry


def _lock_entry_scope(entry: LedgerEntry) -> None:
    """Lock what the entry's money belongs to: its line (and fund), or its fund."""
    if entry.allocation_id is not None:
        _lock_allocation(entry.allocation)
    else:
        _lock_open_fund(entry.fund_id)


@_audited(reason_from="memo")
def entry_reverse(*, entry: LedgerEntry, memo: str, acting_user: OptionalUser) -> LedgerEntry:
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
    if entry.kind == LedgerEntry.Kind.CARRIED_FORWARD:
        raise ValidationError(
            "A carry-forward is not reversed: while it awaits approval its recorder withdraws it, or an "
            "approver rejects it (both legs together); once approved it stands, and moving money back to "
            "an earlier year is not a carry-forward."
        )
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
