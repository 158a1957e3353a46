"""Proposed changes to a line's provider, service, funding category or thematic area: whether one must
await approval, proposing it, and applying it once approved (the decision is in `decisions.py`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from grants.models import Allocation, LedgerEntry, LineChange
from grants.services._base import OptionalUser, _attname, _field_value, _user_or_none
from grants.years import in_words


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
        f"{in_words(timezone.localtime(change.proposed_at))} awaits approval: it must be approved, "
        "rejected or withdrawn before the line's provider, service, category or area can change again."
    )


def _line_change_propose(
    *, allocation: Allocation, recorded: Allocation, reason: str, acting_user: OptionalUser
):
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


def _line_change_apply(change: LineChange) -> None:
    """Make the line what the approved change says, as a saved correction would (version bumped),
    if the fund's lines still allow it (no two lines with the same organisation, service, thematic
    area and funding category)."""
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
