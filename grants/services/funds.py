"""Funds and what hangs off them: their facts and control-total revisions, their profile by financial
year, category budgets, the MoJ return's submission and reopening, funders and reference data, and the
admin's deletes (import value mappings among them; an import writes those, in `imports`)."""

from __future__ import annotations

import datetime
import hashlib
import io
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from djmoney.money import Money

from grants import money, years
from grants.models import (
    CategoryBudget,
    ControlTotalRevision,
    Fund,
    Funder,
    FundingCategory,
    FundYear,
    ImportValueMapping,
    LedgerEntry,
    Organisation,
    ReturnSubmission,
    ThematicArea,
)
from grants.services._base import (
    OptionalUser,
    _as_money,
    _audited,
    _field_value,
    _lock_open_fund,
    _refuse_if_submitted,
    _save_versioned,
    _user_or_none,
    changed_since_opened_message,
    check_and_bump_version,
    submission_in_force,
)
from grants.services.carry_forward import fund_carried_by_year

FUND_FACTS = ("code", "name", "funder", "spend_start", "spend_end", "control_total")

CONTROL_TOTAL_IS_THE_PROFILES = (
    "This fund's control total is the sum of its financial years; change a year's figure on its profile page."
)


@_audited(reason_from="memo")
def fund_save(
    *, fund: Fund, acting_user: OptionalUser, memo: str = "", expected_version: int | None = None
) -> Fund:
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
    _refuse_what_the_profile_decides(fund, previous, control_total_changed=changed)
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


def _refuse_what_the_profile_decides(fund: Fund, previous: Fund, *, control_total_changed: bool) -> None:
    """A profiled fund's total is its years' sum, so it changes only through `fund_profile_set`; and
    its spend period may not leave out a year that still has money (set the year to £0.00 first)."""
    profile = list(FundYear.objects.filter(fund=fund.pk))
    if not profile:
        return
    if control_total_changed:
        raise ValidationError({"control_total": CONTROL_TOTAL_IS_THE_PROFILES})
    period = [name for name in ("spend_start", "spend_end") if getattr(fund, name) != getattr(previous, name)]
    if not period:
        return
    message = stranded_years_message(profile, fund.spend_start, fund.spend_end)
    if message:
        raise ValidationError(dict.fromkeys(period, message))


def stranded_years_message(profile: list[FundYear], start: datetime.date, end: datetime.date) -> str:
    """Why a spend period of `start` to `end` is refused for a fund with this profile: the years with
    money it would leave out; or "" when it leaves none."""
    within = set(years.years_between(start, end))
    outside = [row for row in profile if row.financial_year not in within]
    if not outside:
        return ""
    # A year the funder agreed to carry money into or out of (approved, or awaiting approval) has
    # money in it whatever its figure: one query, only when a year would be left out.
    carried = set(
        LedgerEntry.objects.filter(fund_id=outside[0].fund_id, allocation__isnull=True)
        .filter(kind=LedgerEntry.Kind.CARRIED_FORWARD, rejected_at__isnull=True)
        .annotate(year=years.start_year_of("effective_date"))
        .values_list("year", flat=True)
    )
    stranded = [row for row in outside if row.control_total.amount or row.year in carried]
    if not stranded:
        return ""
    named = ", ".join(
        f"{row.financial_year.label} ({money.format_gbp(row.control_total)}"
        f"{', and a carry-forward' if row.year in carried else ''})"
        for row in stranded
    )
    if any(row.year in carried for row in stranded):
        return (
            f"A spend period of {years.in_words(start)} to {years.in_words(end)} would leave {named} "
            "outside it; a year money was carried into or out of stays in the spend period."
        )
    return (
        f"A spend period of {years.in_words(start)} to {years.in_words(end)} would leave {named} "
        "outside it; set that year's figure to £0.00 on the fund's profile page first."
    )


def profile_field(year: years.FinancialYear) -> str:
    """The name of a year's figure in a form, and the key of its errors: `year_2023` for 2023-24."""
    return f"year_{year.start_year}"


@_audited(reason_from="memo")
def fund_profile_set(
    *,
    fund: Fund,
    figures: dict[years.FinancialYear, Money | Decimal | str],
    memo: str,
    acting_user: OptionalUser,
    expected_version: int | None = None,
) -> list[FundYear]:
    """Set the funder's control total for some financial years of the fund's spend period; the fund's
    control total becomes the sum of its years. Returns the fund's profile, year by year.

    A year left out of `figures` keeps its figure; a year is taken out by setting it to 0.00. Each
    changed year is kept as a `ControlTotalRevision` naming it (from 0.00 for a new year), and a
    changed total as one naming none, all with the memo, which any change needs (the first profile
    too: the award letter). The fund's version goes up, so a form opened before is refused. Refused
    while the fund's submitted return is in force; a refusal names the year and writes nothing.
    """
    fund = _lock_open_fund(fund.pk)
    if expected_version is not None and fund.version != expected_version:
        raise ValidationError(changed_since_opened_message(fund))
    period = years.years_between(fund.spend_start, fund.spend_end)
    errors: dict[str, list[str]] = {}
    asked: dict[years.FinancialYear, Money] = {}
    for year, amount in figures.items():
        if not isinstance(year, years.FinancialYear):
            raise TypeError(f"figures are keyed by FinancialYear, not {year!r}")
        field = profile_field(year)
        if year not in period:
            errors[field] = [
                f"{year.label} is not a financial year of the fund's spend period "
                f"({years.in_words(fund.spend_start)} to {years.in_words(fund.spend_end)}: "
                f"{', '.join(each.label for each in period)})."
            ]
            continue
        try:
            figure = _as_money(amount, field)
        except ValidationError as error:
            errors[field] = [f"{year.label}: {message}" for message in error.messages]
            continue
        if figure.amount < 0:
            errors[field] = [f"{year.label}: a year's control total cannot be less than £0.00."]
            continue
        asked[year] = figure
    rows = {row.financial_year: row for row in FundYear.objects.filter(fund=fund)}
    changed = {
        year: figure
        for year, figure in asked.items()
        if figure != (rows[year].control_total if year in rows else money.zero())
    }
    if changed and not memo.strip():
        errors["memo"] = [
            "Say why the figures changed (for example, the award letter's date); the reason is kept with "
            "each year's revision."
        ]
    if changed:
        # A year's figure cannot fall below what the funder agreed to carry out of it (less what it
        # carried in), counting carry-forwards awaiting approval at once.
        carried = fund_carried_by_year(fund, pending_reductions=True)
        for year, figure in changed.items():
            moved = carried.get(year.start_year, money.zero())
            if money.total([figure, moved]).amount < 0:
                errors[profile_field(year)] = [
                    f"{year.label}: {money.format_gbp(-moved.amount)} of this year's control total is "
                    "carried forward to the next year (less any carried into it), so its figure cannot be "
                    "less than that."
                ]
    figures_after = {year: row.control_total for year, row in rows.items()} | changed
    total = money.total(figures_after.values())
    if not errors and total.amount <= 0:
        errors["__all__"] = [
            "The years' figures add up to £0.00; a fund's control total must be more than £0.00."
        ]
    if not errors and abs(total.amount) >= money.LIMIT:
        errors["__all__"] = [
            f"The years' figures add up to {money.format_gbp(total)}, more than a fund can hold."
        ]
    if errors:
        raise ValidationError(errors)
    if not changed:
        return [rows[year] for year in sorted(rows)]

    recorded_by = _user_or_none(acting_user)
    revisions = []
    for year in sorted(changed):
        row = rows.get(year) or FundYear(fund=fund, year=year.start_year, control_total=money.zero())
        revisions.append(
            ControlTotalRevision(
                fund=fund,
                year=year.start_year,
                previous_amount=row.control_total,
                new_amount=changed[year],
                memo=memo.strip(),
                recorded_by=recorded_by,
            )
        )
        row.control_total = changed[year]
        row.full_clean()
        if row.pk is None:
            row.save()
        else:
            _save_versioned(row, None)
        rows[year] = row
    if total != fund.control_total:
        revisions.append(
            ControlTotalRevision(
                fund=fund,
                previous_amount=fund.control_total,
                new_amount=total,
                memo=memo.strip(),
                recorded_by=recorded_by,
            )
        )
    for revision in revisions:
        revision.full_clean()
        revision.save()
    check_and_bump_version(Fund, fund.pk, fund.version, control_total=total)
    return [rows[year] for year in sorted(rows)]


def _refuse_protected(row: models.Model, error: models.ProtectedError) -> ValidationError:
    kinds = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
    return ValidationError(f"{str(row)} cannot be deleted: it still has {', '.join(kinds)}.")


@_audited(reason="Deleted in the admin")
def funds_delete(*, funds: list[Fund], acting_user: OptionalUser) -> None:
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


def fund_delete(*, fund: Fund, acting_user: OptionalUser) -> None:
    funds_delete(funds=[fund], acting_user=acting_user)


@_audited()
def category_budget_save(
    *, budget: CategoryBudget, acting_user: OptionalUser, expected_version: int | None = None
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
    *, budget: CategoryBudget, acting_user: OptionalUser, expected_version: int | None = None
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
    *, rows: list[Funder | Organisation | ThematicArea | FundingCategory], acting_user: OptionalUser
):
    """Delete funders, providers, thematic areas or funding categories that nothing refers to: all
    of them, or none when any is still used (a fund, a line or a budget names it)."""
    for row in rows:
        try:
            with transaction.atomic():
                type(row).objects.filter(pk=row.pk).delete()
        except models.ProtectedError as error:
            raise _refuse_protected(row, error) from None


@_audited(reason="Deleted in the admin")
def import_value_mappings_delete(*, mappings: list[ImportValueMapping], acting_user: OptionalUser) -> None:
    """Forget how funds' table texts map to categories or areas, so that the next import of the
    table asks again: all of them, or none while any of their funds' submitted return is in force
    (the return reports what those mappings put where)."""
    ids = [mapping.pk for mapping in mappings]
    rows = ImportValueMapping.objects.filter(pk__in=ids)
    for fund_id in sorted(set(rows.values_list("fund_id", flat=True))):
        _lock_open_fund(fund_id)
    rows.delete()


@_audited()
def funder_save(*, funder: Funder, acting_user: OptionalUser, expected_version: int | None = None) -> Funder:
    """Add or correct a funder. A rename does not reach a submitted return: its bytes are kept."""
    funder.full_clean()
    if funder.pk is None:
        funder.save()
    else:
        _save_versioned(funder, expected_version)
    return funder


@_audited()
def reference_data_save(
    *, item: ThematicArea | FundingCategory, acting_user: OptionalUser, expected_version: int | None = None
) -> ThematicArea | FundingCategory:
    """Add or correct a thematic area or funding category (its name, description or place in lists)."""
    item.full_clean()
    if item.pk is None:
        item.save()
    else:
        _save_versioned(item, expected_version)
    return item


def return_file_name(fund: Fund, version: int) -> str:
    return f"MoJ-return_{fund.code}_v{version}.xlsx"


@_audited(reason="MoJ return submitted")
def fund_submit_return(
    *, fund: Fund, acting_user: AbstractBaseUser, accepted_variance: Money | None = None
) -> ReturnSubmission:
    """Build the fund's MoJ return, store the exact bytes with their SHA-256, and lock the fund.

    The return counts approved entries only. The lock on the fund is taken before the workbook is
    built, so no write to the fund's figures can slip in between the return and its lock.

    A return that does not reconcile is submitted only when `accepted_variance` is its variance to
    the penny (the approver ticked "I am submitting this return £5,000.00 over-allocated"): a
    confirmation of another figure, or none, is refused, so a variance that changed since the page
    was read is confirmed again. The submission keeps the variance, and its workbook says so.
    """
    from grants.exports.files import build_moj_return_into
    from grants.selectors.funds import stored_reconciliation

    if acting_user is None or not acting_user.is_authenticated:
        raise ValidationError("Submitting a return needs a signed-in approver.")
    fund = _lock_open_fund(fund.pk)
    variance = stored_reconciliation(fund).variance
    if variance.amount != 0 and (accepted_variance is None or accepted_variance != variance):
        raise ValidationError({"accept_variance": variance_confirmation_message(variance)})
    buffer = io.BytesIO()
    build_moj_return_into(fund, buffer, user=acting_user, submitted_variance=variance)
    workbook = buffer.getvalue()
    version = (fund.submissions.aggregate(latest=Max("version"))["latest"] or 0) + 1
    submission = ReturnSubmission(
        fund=fund,
        version=version,
        file_name=return_file_name(fund, version),
        workbook=workbook,
        sha256=hashlib.sha256(workbook).hexdigest(),
        submitted_by=acting_user,
        variance=variance,
    )
    submission.full_clean()
    submission.save()
    return submission


def variance_confirmation(variance: Money) -> str:
    """The sentence an approver ticks to submit a return with this variance."""
    return f"I am submitting this return {money.format_variance(variance)}"


def variance_confirmation_message(variance: Money) -> str:
    return (
        f"The return does not reconcile: the allocations come to {money.format_gbp(abs(variance))} "
        f"{'more' if variance.amount > 0 else 'less'} than the control total. To submit it anyway, "
        f"tick \u201c{variance_confirmation(variance)}\u201d. Nothing was submitted."
    )


@_audited(reason_from="reason")
def fund_reopen(*, fund: Fund, reason: str, acting_user: AbstractBaseUser) -> ReturnSubmission:
    """Lift the lock of the fund's submitted return, with a reason. The next submission is a new
    version; the reopened one's bytes stay as they were."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the fund is being reopened; the reason is kept."})
    Fund.objects.select_for_update().get(pk=fund.pk)
    submission = submission_in_force(fund.pk)
    if submission is None:
        raise ValidationError("This fund has no submitted return in force, so there is nothing to reopen.")
    now = timezone.now()
    ReturnSubmission.objects.filter(pk=submission.pk, reopened_at__isnull=True).update(
        reopened_by=acting_user, reopened_at=now, reopen_reason=reason.strip()
    )
    submission.refresh_from_db()
    return submission
