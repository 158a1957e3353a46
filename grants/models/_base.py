"""What every model here is built from: the money field and its constraints, the rule that no name
begins like a formula, append-only and versioned rows, and the constraint helpers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from djmoney.models.fields import MoneyField

from grants import money


class GBPMoneyField(MoneyField):
    """A `MoneyField` in pounds with two decimal places.

    On PostgreSQL `numeric(14, 2)` would round 1.005 to 1.01 before any constraint saw it, so the
    column is plain `numeric` and the two-places and size rules are CHECK constraints
    (`money_constraints()`), which hold on SQLite as well.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", money.MAX_DIGITS)
        kwargs.setdefault("decimal_places", money.DECIMAL_PLACES)
        kwargs.setdefault("default_currency", money.GBP)
        kwargs.setdefault("currency_choices", [(money.GBP, "Pound sterling")])
        super().__init__(*args, **kwargs)

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "numeric"
        return super().db_type(connection)


def money_constraints(model: str, field: str) -> list[models.CheckConstraint]:
    """CHECK constraints every money column carries: GBP, two decimal places, within 14 digits."""
    return [
        models.CheckConstraint(
            condition=Q(**{f"{field}_currency": money.GBP}),
            name=f"{model}_{field}_is_in_gbp",
            violation_error_message="Amounts must be in pounds sterling (GBP).",
        ),
        models.CheckConstraint(
            condition=Q(**{field: Round(F(field), money.DECIMAL_PLACES)}),
            name=f"{model}_{field}_is_in_whole_pence",
            violation_error_message="Amounts must have at most 2 decimal places (whole pence).",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{field}__lt": money.LIMIT, f"{field}__gt": -money.LIMIT}),
            name=f"{model}_{field}_is_under_a_trillion",
            violation_error_message="Amounts must be less than £1,000,000,000,000.",
        ),
    ]


# What a spreadsheet (Excel, LibreOffice) reads as the start of a formula when a CSV or a typed cell
# begins with it (OWASP, "CSV injection"). Names and services may not begin with any of these, so
# that every export can carry them exactly, the 360Giving CSV included (grants.exports).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


FORMULA_STARTS_IN_WORDS = "=, +, -, @, a tab or a carriage return"


def starts_like_a_formula(text: str) -> bool:
    return isinstance(text, str) and text.startswith(FORMULA_STARTS)


def formula_message(what: str) -> str:
    return (
        f"{what} cannot begin with {FORMULA_STARTS_IN_WORDS}: a spreadsheet opening an export would "
        "run it as a formula. Remove or reword the first character."
    )


def not_a_formula(value: str) -> None:
    """Validator for names and services: refuse text a spreadsheet would read as a formula."""
    if starts_like_a_formula(value):
        raise ValidationError(formula_message("This text"), code="formula")


def not_a_formula_constraint(model: str, field: str, what: str) -> models.CheckConstraint:
    """The database's copy of `not_a_formula` for one column, on both databases."""
    starts = Q()
    for start in FORMULA_STARTS:
        starts |= Q(**{f"{field}__startswith": start})
    return models.CheckConstraint(
        condition=~starts,
        name=f"{model}_{field}_does_not_begin_like_a_formula",
        violation_error_message=formula_message(what),
    )


def decision_constraints(
    model: str, noun: str, author: str, outside_flag: str = ""
) -> list[models.CheckConstraint]:
    """CHECK constraints for a row that awaits a decision (an entry, a proposed change): it is
    approved by someone other than its `author`, with who and when (or, where `outside_flag` is
    given, approved before it reached the ledger, with no approver); rejected (or withdrawn) with
    who, when and why; and never both."""
    approved_by_someone = Q(approved_at__isnull=True) | Q(approved_by__isnull=False)
    if outside_flag:
        approved_by_someone |= Q(**{outside_flag: True, "approved_by__isnull": True})
    constraints = [
        models.CheckConstraint(
            condition=Q(approved_by__isnull=True) | Q(approved_at__isnull=False),
            name=f"{model}_approver_has_an_approval_time",
            violation_error_message="An approval needs its date and time.",
        ),
        models.CheckConstraint(
            condition=approved_by_someone,
            name=f"{model}_approval_names_its_approver",
            violation_error_message=f"{noun.capitalize()} is approved by a named person.",
        ),
        models.CheckConstraint(
            condition=Q(approved_by__isnull=True)
            | Q(**{f"{author}__isnull": True})
            | ~Q(approved_by=F(author)),
            name=f"{model}_is_approved_by_someone_else",
            violation_error_message=(
                f"{noun.capitalize()} must be approved by someone other than who recorded it."
            ),
        ),
        models.CheckConstraint(
            condition=Q(rejected_at__isnull=True, rejected_by__isnull=True, rejection_reason="")
            | (Q(rejected_at__isnull=False, rejected_by__isnull=False) & ~Q(rejection_reason="")),
            name=f"{model}_rejection_has_who_when_and_why",
            violation_error_message="A rejection or withdrawal needs who, when and why.",
        ),
        models.CheckConstraint(
            condition=Q(approved_at__isnull=True) | Q(rejected_at__isnull=True),
            name=f"{model}_is_not_both_approved_and_rejected",
            violation_error_message=f"{noun.capitalize()} is either approved or rejected, not both.",
        ),
    ]
    if outside_flag:
        constraints.append(
            models.CheckConstraint(
                condition=Q(**{outside_flag: False}) | Q(approved_at__isnull=False, approved_by__isnull=True),
                name=f"{model}_approved_outside_the_ledger_has_no_approver",
                violation_error_message="An entry approved before it reached the ledger names no approver.",
            )
        )
    return constraints


class Versioned(models.Model):
    """A row people edit in forms. `version` goes up by one with every saved change
    (`services.check_and_bump_version`), so a form opened before a colleague's save is refused
    instead of silently undoing it."""

    version = models.PositiveIntegerField(
        default=1,
        db_default=1,
        editable=False,
        help_text="Goes up by one with every saved change, so that a form opened before a colleague's "
        "change cannot overwrite it.",
    )

    class Meta:
        abstract = True


class CodedQuerySet(models.QuerySet):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class AppendOnlyQuerySet(models.QuerySet):
    """Rows that record history: they are added, never updated or deleted through the ORM."""

    def _refuse(self):
        name = str(self.model._meta.verbose_name_plural)
        raise ValidationError(f"{name[0].upper()}{name[1:]} are append-only.")

    def update(self, **kwargs):
        self._refuse()

    def delete(self):
        self._refuse()


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(
                f"A {self._meta.verbose_name} cannot be changed once recorded; record a new one."
            )
        # An INSERT, never an UPDATE, even when a caller has set the primary key of an existing row.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(
            f"A {self._meta.verbose_name} cannot be deleted; record a correcting entry instead."
        )
