"""The private machinery of the batch services: checking many rows before writing any.

`full_clean()` checks each CHECK and UNIQUE constraint with a query of its own, and each foreign key
with another: about 25 queries for a line and its award. The batch services (`allocations_create`,
`allocation_amounts_set`, `organisations_create`) check a batch of rows in a fixed number of queries
instead (field rules in Python, each foreign key and each uniqueness rule with one query for the whole
batch, the CHECK rules in Python), collect every row's problems, and write with `bulk_create()`. The
database's constraints stay the final guard. The one-row services (`allocation_create`,
`allocation_set_amount`, `organisation_create`) call these with one row, so a form and an import go
through the same checks and the same writes.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, router

from grants.models import LedgerEntry


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
        if (kind in LedgerEntry.Kind.fund_kinds()) == on_allocation:
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


def _the_one(refused: RowsRefused) -> ValidationError:
    """The one-row services raise their row's error as it is, with its field names, for the forms."""
    return refused.rows[0]
