"""A fund's lines: adding them with their award (`allocations_create`), correcting their details
(`allocation_update`) and changing their amounts by variation (`allocation_amounts_set`); the one-row
services the forms call go through the batch ones."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from djmoney.money import Money

from grants import money
from grants.models import (
    Allocation,
    Approval,
    Fund,
    FundingCategory,
    LedgerEntry,
    LineChange,
    Organisation,
    ThematicArea,
)
from grants.services._base import (
    OptionalUser,
    _as_money,
    _attname,
    _audited,
    _field_value,
    _lock_open_fund,
    _save_versioned,
    _user_or_none,
    changed_since_opened_message,
)
from grants.services._batch import (
    RowsRefused,
    _check_entry_rules,
    _clean_rows,
    _constraint_message,
    _Problems,
    _the_one,
)
from grants.services.limits import carried_out_years, line_limits, year_floor_problem
from grants.services.line_changes import _line_change_propose, line_change_needed
from grants.years import financial_year


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
    acting_user: OptionalUser,
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
    *,
    allocation: Allocation,
    acting_user: OptionalUser,
    expected_version: int | None = None,
    reason: str = "",
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
    acting_user: OptionalUser,
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
def allocations_create(
    *, fund: Fund, lines: list[NewLine], memo: str, acting_user: OptionalUser
) -> list[Allocation]:
    """Add lines to a fund, each with its award entry, which waits for approval: all of them or, if
    any row has a problem, none (`RowsRefused` lists every refused row with all its problems).

    The fund is locked and checked open once; line numbers and each line's identity (organisation,
    service, thematic area and funding category) are checked against the fund's lines with one query
    and against each other in memory.
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
    """The fund's two uniqueness rules for new lines: one query for the fund's lines, then memory.

    One organisation may hold several lines in a fund that differ in service, thematic area or
    funding category; the same four again is a line typed twice."""
    numbers, identities = {}, {}
    for number, *identity in Allocation.objects.filter(fund=fund).values_list(
        "line_number", "organisation_id", "service", "thematic_area_id", "funding_category_id"
    ):
        numbers[number], identities[tuple(identity)] = None, None
    number_taken = _constraint_message(Allocation, "allocation_line_number_is_unique_within_its_fund")
    line_taken = _constraint_message(
        Allocation, "allocation_organisation_service_area_category_is_unique_in_fund"
    )
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
        identity = (
            allocation.organisation_id,
            allocation.service,
            allocation.thematic_area_id,
            allocation.funding_category_id,
        )
        if identity in identities:
            first = identities[identity]
            problems.add(
                index,
                line_taken
                if first is None
                else "This batch has two lines for that organisation and service in the same thematic "
                "area and funding category.",
            )
        elif None not in identity:
            identities[identity] = index


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
    *, changes: list[AmountChange], memo: str, acting_user: OptionalUser
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
        Allocation.objects.filter(pk__in=ids)
        .with_awarded(Approval.APPROVED_OR_PENDING)
        .values_list("pk", "awarded")
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
    floors = carried_out_years(list(reductions.values())) if reductions else {}
    for index, allocation_id in reductions.items():
        if index not in variations:
            continue
        variation = variations[index]
        start_year = financial_year(variation.effective_date).start_year
        if (allocation_id, start_year) in floors:
            problem = year_floor_problem(
                money.total([floors[allocation_id, start_year], variation.amount]), start_year
            )
            if problem:
                problems.add(index, {"amount": problem})
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
