"""The database and model validation refuse bad input, each on its own.

Every refused input is tried twice: through `full_clean()`, which must raise `ValidationError` with
the message a finance officer sees, and through a write that skips validation (`objects.create()`,
`bulk_create()` or SQL on the cursor), which the database itself must refuse. Database errors are
raised inside `transaction.atomic()` so the test can go on to check that nothing was stored.

SQLite and PostgreSQL word their errors differently; `database_refusal()` gives the text each one
uses for a named constraint, so each test states the constraint it expects once.
"""

from __future__ import annotations

import datetime
import re
import uuid
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, models, transaction
from django.db.models.expressions import DatabaseDefault
from djmoney.models.fields import CurrencyField, MoneyField
from djmoney.money import Money

from audit.context import data_load
from grants import services
from grants.models import (
    Allocation,
    CategoryBudget,
    ControlTotalRevision,
    Fund,
    FundingCategory,
    LedgerEntry,
    Organisation,
    ThematicArea,
)
from tests.factories import (
    AllocationFactory,
    CategoryBudgetFactory,
    FunderFactory,
    FundFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    ThematicAreaFactory,
    UserFactory,
)

EFFECTIVE_DATE = datetime.date(2020, 8, 19)
THREE_PLACES = Decimal("80528.425")

WHOLE_PENCE = "Amounts must have at most 2 decimal places (whole pence)."
TWO_PLACES_FIELD_ERROR = "Ensure that there are no more than 2 decimal places."
GBP_ONLY = "Amounts must be in pounds sterling (GBP)."
AWARD_POSITIVE = "An award must be more than £0.00."
AMOUNT_POSITIVE = "The amount must be more than £0.00."
VARIATION_NOT_ZERO = "A variation of £0.00 changes nothing."
ONE_AWARD = "This allocation already has its award; record a variation."


# Helpers ------------------------------------------------------------------------------------------


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def database_refusal(model: type[models.Model], constraint_name: str) -> str:
    """The text this database puts in the error when `constraint_name` refuses a row.

    Looking the constraint up on the model also proves that it is declared under that name.
    """
    (constraint,) = [c for c in model._meta.constraints if c.name == constraint_name]
    if connection.vendor == "postgresql":
        kind = "check" if isinstance(constraint, models.CheckConstraint) else "unique"
        return f'violates {kind} constraint "{constraint_name}"'
    if isinstance(constraint, models.CheckConstraint):
        return f"CHECK constraint failed: {constraint_name}"
    if constraint.fields:
        table = model._meta.db_table
        columns = [model._meta.get_field(name).column for name in constraint.fields]
        return "UNIQUE constraint failed: " + ", ".join(f"{table}.{column}" for column in columns)
    # SQLite names an index on expressions rather than its columns.
    return f"UNIQUE constraint failed: index '{constraint_name}'"


@contextmanager
def refused_by(model: type[models.Model], constraint_name: str):
    """The block's write must be refused by the named constraint; the test carries on afterwards."""
    with (
        pytest.raises(IntegrityError, match=re.escape(database_refusal(model, constraint_name))),
        transaction.atomic(),
    ):
        yield


def validation_messages(instance: models.Model) -> dict[str, list[str]]:
    """The messages `full_clean()` raises, by field (`__all__` for the model's constraints)."""
    with pytest.raises(ValidationError) as excinfo:
        instance.full_clean()
    return excinfo.value.message_dict


def constraint_messages(instance: models.Model) -> dict[str, list[str]]:
    """The messages the model's constraints raise on their own, without the fields' validators."""
    with pytest.raises(ValidationError) as excinfo:
        instance.validate_constraints()
    return excinfo.value.message_dict


def insert_with_sql(instance: models.Model, **raw_values) -> None:
    """INSERT `instance`'s row on the cursor: no model save, no field conversion, no validation.

    Columns named in `raw_values` get that value exactly as given to the database driver.
    """
    meta = instance._meta
    fields = [
        field
        for field in meta.concrete_fields
        if not field.primary_key
        and (field.name in raw_values or not isinstance(getattr(instance, field.attname), DatabaseDefault))
    ]
    params = [
        raw_values[field.name]
        if field.name in raw_values
        else field.get_db_prep_save(getattr(instance, field.attname), connection)
        for field in fields
    ]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def ledger_entry_values(allocation: Allocation, **overrides) -> dict:
    """The fields of a variation of £10.00 on `allocation`, with `overrides` applied."""
    return {
        "fund": allocation.fund,
        "allocation": allocation,
        "kind": LedgerEntry.Kind.VARIATION,
        "amount": Money(Decimal("10.00"), "GBP"),
        "effective_date": EFFECTIVE_DATE,
        "memo": "Variation letter",
    } | overrides


def ledger_entry(allocation: Allocation, **overrides) -> LedgerEntry:
    """An unsaved variation of £10.00 on `allocation`, with `overrides` applied."""
    return LedgerEntry(**ledger_entry_values(allocation, **overrides))


def allocation_line(allocation: Allocation, **overrides) -> Allocation:
    """An unsaved line in `allocation`'s fund that clashes with nothing unless `overrides` make it."""
    values = {
        "fund": allocation.fund,
        "line_number": allocation.line_number + 1,
        "organisation": OrganisationFactory(),
        "service": "",
        "thematic_area": allocation.thematic_area,
        "funding_category": allocation.funding_category,
    }
    return Allocation(**(values | overrides))


def entries_on(allocation: Allocation) -> list[tuple[str, Decimal]]:
    return list(allocation.entries.order_by("pk").values_list("kind", "amount"))


# Fixtures -----------------------------------------------------------------------------------------


@pytest.fixture
def funder(db):
    return FunderFactory()


@pytest.fixture
def fund(funder):
    return FundFactory(funder=funder, control_total=Money(Decimal("1000.00"), "GBP"))


@pytest.fixture
def allocation(fund):
    """Line 1 of the fund, with its £100.00 award."""
    return AllocationFactory(fund=fund, line_number=1, service="Sexual Violence Service", amount="100.00")


@pytest.fixture
def unawarded_allocation(fund):
    """A line with no entries yet, so an award's own rules are the only ones in play."""
    return Allocation.objects.create(
        fund=fund,
        line_number=2,
        organisation=OrganisationFactory(),
        thematic_area=ThematicAreaFactory(),
        funding_category=FundingCategoryFactory(),
    )


@pytest.fixture
def award(allocation):
    return allocation.entries.get(kind=LedgerEntry.Kind.AWARD)


@pytest.fixture
def revision(fund):
    """The revision `fund_save` records when the control total goes from £1,000.00 to £1,200.00."""
    fund.control_total = Money(Decimal("1200.00"), "GBP")
    services.fund_save(fund=fund, acting_user=None, memo="Revised award letter of 1 July 2020")
    return fund.control_total_revisions.get()


# 1. Three decimal places are refused, never rounded -----------------------------------------------


def test_full_clean_refuses_a_ledger_amount_with_three_decimal_places(allocation):
    entry = ledger_entry(allocation, amount=THREE_PLACES)

    assert validation_messages(entry) == {"amount": [TWO_PLACES_FIELD_ERROR]}


def test_whole_pence_constraint_refuses_three_decimal_places_in_python_too(allocation):
    entry = ledger_entry(allocation, amount=Money(THREE_PLACES, "GBP"))

    assert constraint_messages(entry) == {"__all__": [WHOLE_PENCE]}


def test_database_refuses_a_ledger_amount_with_three_decimal_places_and_stores_nothing(allocation):
    with refused_by(LedgerEntry, "ledger_entry_amount_is_in_whole_pence"):
        LedgerEntry.objects.create(**ledger_entry_values(allocation, amount=THREE_PLACES))

    assert entries_on(allocation) == [("award", Decimal("100.00"))]
    assert not LedgerEntry.objects.filter(
        amount__in=[Decimal("80528.42"), Decimal("80528.43"), THREE_PLACES]
    ).exists()


def test_bulk_create_with_one_amount_in_three_places_stores_none_of_the_rows(allocation):
    good = ledger_entry(allocation, amount=Decimal("80528.42"))
    bad = ledger_entry(allocation, amount=THREE_PLACES)

    with refused_by(LedgerEntry, "ledger_entry_amount_is_in_whole_pence"):
        LedgerEntry.objects.bulk_create([good, bad])

    assert entries_on(allocation) == [("award", Decimal("100.00"))]


def test_sql_insert_of_three_decimal_places_is_refused_not_rounded(allocation):
    with refused_by(LedgerEntry, "ledger_entry_amount_is_in_whole_pence"):
        insert_with_sql(ledger_entry(allocation), amount="80528.425")

    assert entries_on(allocation) == [("award", Decimal("100.00"))]


def test_an_amount_in_whole_pence_is_stored_exactly(allocation):
    entry = ledger_entry(allocation, amount=Decimal("80528.42"))
    entry.full_clean()
    entry.save()

    assert LedgerEntry.objects.get(pk=entry.pk).amount == Money(Decimal("80528.42"), "GBP")


# 2. Awards are positive, variations are not zero ---------------------------------------------------


@pytest.mark.parametrize("amount", [Decimal("-100.00"), Decimal("0.00")], ids=["negative", "zero"])
def test_full_clean_refuses_an_award_that_is_not_positive(unawarded_allocation, amount):
    entry = ledger_entry(unawarded_allocation, kind=LedgerEntry.Kind.AWARD, amount=amount)

    assert validation_messages(entry) == {"__all__": [AMOUNT_POSITIVE]}


@pytest.mark.parametrize("amount", [Decimal("-100.00"), Decimal("0.00")], ids=["negative", "zero"])
def test_database_refuses_an_award_that_is_not_positive(unawarded_allocation, amount):
    with refused_by(LedgerEntry, "ledger_entry_is_positive_unless_a_reversal_or_variation"):
        LedgerEntry.objects.create(
            **ledger_entry_values(unawarded_allocation, kind=LedgerEntry.Kind.AWARD, amount=amount)
        )

    assert entries_on(unawarded_allocation) == []


def test_full_clean_refuses_a_zero_variation(allocation):
    entry = ledger_entry(allocation, amount=Decimal("0.00"))

    assert validation_messages(entry) == {"__all__": [VARIATION_NOT_ZERO]}


def test_database_refuses_a_zero_variation(allocation):
    with refused_by(LedgerEntry, "ledger_entry_variation_is_not_zero"):
        LedgerEntry.objects.create(**ledger_entry_values(allocation, amount=Decimal("0.00")))

    assert entries_on(allocation) == [("award", Decimal("100.00"))]


def test_a_negative_variation_passes_validation_and_the_database(allocation):
    entry = ledger_entry(allocation, amount=Decimal("-25.50"))
    entry.full_clean()
    LedgerEntry.objects.bulk_create([entry])

    assert entries_on(allocation) == [("award", Decimal("100.00")), ("variation", Decimal("-25.50"))]


# 3. Pounds sterling only ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "currency_values",
    [
        {"amount": Money(Decimal("10.00"), "EUR")},
        {"amount": Decimal("10.00"), "amount_currency": "EUR"},
    ],
    ids=["money-in-euros", "euro-currency-column"],
)
def test_full_clean_refuses_a_ledger_amount_in_another_currency(allocation, currency_values):
    entry = ledger_entry(allocation, **currency_values)

    assert validation_messages(entry) == {"__all__": [GBP_ONLY]}


@pytest.mark.parametrize(
    "currency_values",
    [
        {"amount": Money(Decimal("10.00"), "EUR")},
        {"amount": Decimal("10.00"), "amount_currency": "EUR"},
    ],
    ids=["money-in-euros", "euro-currency-column"],
)
def test_database_refuses_a_ledger_amount_in_another_currency(allocation, currency_values):
    with refused_by(LedgerEntry, "ledger_entry_amount_is_in_gbp"):
        LedgerEntry.objects.create(**ledger_entry_values(allocation, **currency_values))

    assert entries_on(allocation) == [("award", Decimal("100.00"))]


def test_sql_insert_in_euros_is_refused(allocation):
    with refused_by(LedgerEntry, "ledger_entry_amount_is_in_gbp"):
        insert_with_sql(ledger_entry(allocation), amount_currency="EUR")

    assert entries_on(allocation) == [("award", Decimal("100.00"))]


# 4. Text is not an amount --------------------------------------------------------------------------


def test_a_ledger_entry_refuses_text_as_its_amount_before_full_clean_runs(allocation):
    # django-money converts the amount as it is assigned, so the model cannot even be built.
    with pytest.raises(ValidationError) as excinfo:
        ledger_entry(allocation, amount="abc")

    assert excinfo.value.messages == ["“abc” value must be a decimal number."]


def test_database_refuses_text_in_the_amount_column(allocation):
    if connection.vendor == "postgresql":
        # The column is `numeric`: the text never becomes a value for a constraint to check.
        error, message = DataError, 'invalid input syntax for type numeric: "abc"'
    else:
        # SQLite keeps text it cannot read as a number; ROUND('abc', 2) is 0.0, which is not 'abc'.
        error = IntegrityError
        message = database_refusal(LedgerEntry, "ledger_entry_amount_is_in_whole_pence")

    with pytest.raises(error, match=re.escape(message)), transaction.atomic():
        insert_with_sql(ledger_entry(allocation), amount="abc")

    assert entries_on(allocation) == [("award", Decimal("100.00"))]


# 5. Known kinds only -------------------------------------------------------------------------------


def test_full_clean_refuses_an_unknown_kind_of_ledger_entry(allocation):
    entry = ledger_entry(allocation, kind="refund")

    assert validation_messages(entry) == {"kind": ["Value 'refund' is not a valid choice."]}


def test_unknown_kind_constraint_refuses_it_in_python_too(allocation):
    entry = ledger_entry(allocation, kind="refund")

    assert constraint_messages(entry) == {"__all__": ["Unknown kind of ledger entry."]}


def test_database_refuses_an_unknown_kind_of_ledger_entry(allocation):
    with refused_by(LedgerEntry, "ledger_entry_kind_is_a_known_kind"):
        LedgerEntry.objects.create(**ledger_entry_values(allocation, kind="refund"))

    assert entries_on(allocation) == [("award", Decimal("100.00"))]


# 6. One award per allocation -----------------------------------------------------------------------


def test_full_clean_refuses_a_second_award_on_an_allocation(allocation):
    entry = ledger_entry(allocation, kind=LedgerEntry.Kind.AWARD, amount=Decimal("50.00"))

    assert validation_messages(entry) == {"__all__": [ONE_AWARD]}


def test_database_refuses_a_second_award_on_an_allocation(allocation):
    with refused_by(LedgerEntry, "ledger_entry_allocation_has_one_award"):
        LedgerEntry.objects.create(
            **ledger_entry_values(allocation, kind=LedgerEntry.Kind.AWARD, amount=Decimal("50.00"))
        )

    assert entries_on(allocation) == [("award", Decimal("100.00"))]


def test_bulk_create_of_two_awards_for_one_allocation_stores_neither(unawarded_allocation):
    first = ledger_entry(unawarded_allocation, kind=LedgerEntry.Kind.AWARD, amount=Decimal("50.00"))
    second = ledger_entry(unawarded_allocation, kind=LedgerEntry.Kind.AWARD, amount=Decimal("60.00"))

    with refused_by(LedgerEntry, "ledger_entry_allocation_has_one_award"):
        LedgerEntry.objects.bulk_create([first, second])

    assert entries_on(unawarded_allocation) == []


def test_a_variation_on_an_awarded_allocation_passes_the_one_award_rule(allocation):
    ledger_entry(allocation, amount=Decimal("50.00")).full_clean()


# 7. Funds ------------------------------------------------------------------------------------------


def test_full_clean_refuses_a_spend_period_that_ends_before_it_starts(funder):
    fund = FundFactory.build(
        funder=funder, spend_start=datetime.date(2020, 10, 31), spend_end=datetime.date(2020, 3, 23)
    )

    assert validation_messages(fund) == {
        "__all__": ["The spend period must start on or before the day it ends."]
    }


def test_database_refuses_a_spend_period_that_ends_before_it_starts(funder):
    with refused_by(Fund, "fund_spend_period_starts_on_or_before_it_ends"):
        FundFactory(
            funder=funder, spend_start=datetime.date(2020, 10, 31), spend_end=datetime.date(2020, 3, 23)
        )

    assert not Fund.objects.exists()


def test_a_spend_period_of_one_day_is_allowed(funder):
    FundFactory.build(
        funder=funder, spend_start=datetime.date(2020, 3, 23), spend_end=datetime.date(2020, 3, 23)
    ).full_clean()


BAD_CONTROL_TOTALS = [
    pytest.param(
        Money(Decimal("0.00"), "GBP"),
        {"__all__": ["The control total must be more than £0.00."]},
        "fund_control_total_is_positive",
        id="zero",
    ),
    pytest.param(
        Money(Decimal("-1000.00"), "GBP"),
        {"__all__": ["The control total must be more than £0.00."]},
        "fund_control_total_is_positive",
        id="negative",
    ),
    pytest.param(
        Money(THREE_PLACES, "GBP"),
        {"control_total": [TWO_PLACES_FIELD_ERROR]},
        "fund_control_total_is_in_whole_pence",
        id="three-decimal-places",
    ),
    pytest.param(
        Money(Decimal("1000.00"), "EUR"),
        {"__all__": [GBP_ONLY]},
        "fund_control_total_is_in_gbp",
        id="euros",
    ),
]


@pytest.mark.parametrize(("control_total", "messages", "constraint_name"), BAD_CONTROL_TOTALS)
def test_full_clean_refuses_a_bad_control_total(funder, control_total, messages, constraint_name):
    fund = FundFactory.build(funder=funder, control_total=control_total)

    assert validation_messages(fund) == messages


@pytest.mark.parametrize(("control_total", "messages", "constraint_name"), BAD_CONTROL_TOTALS)
def test_database_refuses_a_bad_control_total(funder, control_total, messages, constraint_name):
    with refused_by(Fund, constraint_name):
        FundFactory(funder=funder, control_total=control_total)

    assert not Fund.objects.exists()


def test_whole_pence_constraint_refuses_a_control_total_in_three_places_in_python_too(funder):
    fund = FundFactory.build(funder=funder, control_total=Money(THREE_PLACES, "GBP"))

    assert constraint_messages(fund) == {"__all__": [WHOLE_PENCE]}


# 8. Allocation lines -------------------------------------------------------------------------------


def test_full_clean_refuses_a_line_number_already_used_in_the_fund(allocation):
    line = allocation_line(allocation, line_number=allocation.line_number)

    assert validation_messages(line) == {"__all__": ["This fund already has a line with that number."]}


def test_database_refuses_a_line_number_already_used_in_the_fund(allocation):
    line = allocation_line(allocation, line_number=allocation.line_number)

    with refused_by(Allocation, "allocation_line_number_is_unique_within_its_fund"):
        line.save()

    assert Allocation.objects.filter(fund=allocation.fund).count() == 1


def test_the_same_line_number_is_allowed_in_another_fund(allocation, funder):
    allocation_line(
        allocation, fund=FundFactory(funder=funder), line_number=allocation.line_number
    ).full_clean()


LINE_TWICE = (
    "This fund already has a line for that organisation and service in that thematic area "
    "and funding category."
)
LINE_TWICE_CONSTRAINT = "allocation_organisation_service_area_category_is_unique_in_fund"


def test_full_clean_refuses_a_line_typed_twice_in_a_fund(allocation):
    line = allocation_line(allocation, organisation=allocation.organisation, service=allocation.service)

    assert validation_messages(line) == {"__all__": [LINE_TWICE]}


def test_database_refuses_a_line_typed_twice_in_a_fund(allocation):
    line = allocation_line(allocation, organisation=allocation.organisation, service=allocation.service)

    with refused_by(Allocation, LINE_TWICE_CONSTRAINT):
        Allocation.objects.bulk_create([line])

    assert Allocation.objects.filter(fund=allocation.fund).count() == 1


def test_database_refuses_a_line_typed_twice_inserted_with_sql(allocation):
    line = allocation_line(allocation, organisation=allocation.organisation, service=allocation.service)

    with refused_by(Allocation, LINE_TWICE_CONSTRAINT):
        insert_with_sql(line)

    assert Allocation.objects.filter(fund=allocation.fund).count() == 1


def test_database_takes_with_sql_a_second_line_for_the_organisation_in_another_category(allocation):
    line = allocation_line(
        allocation,
        organisation=allocation.organisation,
        service=allocation.service,
        funding_category=FundingCategoryFactory(),
    )

    insert_with_sql(line)

    assert Allocation.objects.filter(fund=allocation.fund, organisation=allocation.organisation).count() == 2


def test_database_refuses_an_update_with_sql_that_makes_a_line_typed_twice(allocation):
    other_area = ThematicAreaFactory()
    line = allocation_line(
        allocation, organisation=allocation.organisation, service=allocation.service, thematic_area=other_area
    )
    line.save()
    update = "UPDATE {} SET {} = %s WHERE {} = %s".format(
        quote(Allocation._meta.db_table), quote("thematic_area_id"), quote("id")
    )

    with refused_by(Allocation, LINE_TWICE_CONSTRAINT), connection.cursor() as cursor:
        cursor.execute(update, [allocation.thematic_area_id, line.pk])

    line.refresh_from_db()
    assert line.thematic_area == other_area


@pytest.mark.parametrize(
    "difference",
    [
        {"service": "Domestic Abuse Service"},
        {"funding_category": "another"},
        {"thematic_area": "another"},
    ],
    ids=["service", "funding_category", "thematic_area"],
)
def test_an_organisation_may_hold_a_second_line_that_differs_in_one_of_them(allocation, difference):
    others = {"funding_category": FundingCategoryFactory, "thematic_area": ThematicAreaFactory}
    same = {"organisation": allocation.organisation, "service": allocation.service}
    changes = {name: others[name]() if value == "another" else value for name, value in difference.items()}
    line = allocation_line(allocation, **(same | changes))

    line.full_clean()
    line.save()

    assert Allocation.objects.filter(fund=allocation.fund, organisation=allocation.organisation).count() == 2


def test_the_same_line_is_allowed_in_another_fund(allocation, funder):
    line = allocation_line(
        allocation,
        fund=FundFactory(funder=funder),
        organisation=allocation.organisation,
        service=allocation.service,
    )

    line.full_clean()
    line.save()

    assert Allocation.objects.filter(organisation=allocation.organisation).count() == 2


def test_full_clean_refuses_line_number_zero(allocation):
    line = allocation_line(allocation, line_number=0)

    assert validation_messages(line) == {"__all__": ["Line numbers start at 1."]}


def test_database_refuses_line_number_zero(allocation):
    line = allocation_line(allocation, line_number=0)

    with refused_by(Allocation, "allocation_line_number_is_positive"):
        line.save()

    assert not Allocation.objects.filter(line_number=0).exists()


# 9. Organisations ----------------------------------------------------------------------------------


def test_full_clean_refuses_an_organisation_name_that_differs_only_in_case(db):
    OrganisationFactory(name="Birmingham Crisis Centre")

    assert validation_messages(Organisation(name="BIRMINGHAM crisis centre")) == {
        "__all__": ["An organisation with this name already exists."]
    }


def test_database_refuses_an_organisation_name_that_differs_only_in_case(db):
    OrganisationFactory(name="Birmingham Crisis Centre")

    with refused_by(Organisation, "organisation_name_is_unique_ignoring_case"):
        Organisation.objects.create(name="BIRMINGHAM crisis centre")

    assert list(Organisation.objects.values_list("name", flat=True)) == ["Birmingham Crisis Centre"]


@pytest.mark.parametrize(
    ("model", "constraint"),
    [
        (ThematicArea, "thematicarea_name_is_unique_ignoring_case"),
        (FundingCategory, "fundingcategory_name_is_unique_ignoring_case"),
    ],
)
def test_reference_names_that_differ_only_in_case_are_refused_on_both_paths(db, model, constraint):
    # The return's SUMIFS formulas match names ignoring case, so such names would count each other.
    model.objects.create(code="domestic-abuse", name="Domestic Abuse")
    duplicate = model(code="domestic-abuse-2", name="domestic abuse")
    assert validation_messages(duplicate) == {
        "__all__": ["This name is taken (names must differ by more than capitals)."]
    }
    with refused_by(model, constraint):
        model.objects.create(code="domestic-abuse-2", name="domestic abuse")
    assert list(model.objects.values_list("name", flat=True)) == ["Domestic Abuse"]


def test_bulk_create_of_two_names_differing_only_in_case_stores_neither(db):
    with refused_by(Organisation, "organisation_name_is_unique_ignoring_case"):
        Organisation.objects.bulk_create(
            [Organisation(name="Birmingham Crisis Centre"), Organisation(name="birmingham crisis centre")]
        )

    assert not Organisation.objects.exists()


# 10. Category budgets ------------------------------------------------------------------------------


def test_full_clean_refuses_a_second_budget_for_the_same_fund_and_category(fund):
    budget = CategoryBudgetFactory(fund=fund)
    second = CategoryBudget(fund=fund, funding_category=budget.funding_category, amount=Decimal("200.00"))

    assert validation_messages(second) == {"__all__": ["This fund already has a budget for that category."]}


def test_database_refuses_a_second_budget_for_the_same_fund_and_category(fund):
    budget = CategoryBudgetFactory(fund=fund)

    with refused_by(CategoryBudget, "category_budget_is_set_once_per_fund_and_category"):
        CategoryBudget.objects.create(
            fund=fund, funding_category=budget.funding_category, amount=Decimal("200.00")
        )

    assert list(CategoryBudget.objects.values_list("amount", flat=True)) == [Decimal("500.00")]


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-500.00")], ids=["zero", "negative"])
def test_full_clean_refuses_a_category_budget_that_is_not_positive(fund, amount):
    budget = CategoryBudgetFactory.build(fund=fund, funding_category=FundingCategoryFactory(), amount=amount)

    assert validation_messages(budget) == {"__all__": ["A category budget must be more than £0.00."]}


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-500.00")], ids=["zero", "negative"])
def test_database_refuses_a_category_budget_that_is_not_positive(fund, amount):
    category = FundingCategoryFactory()

    with refused_by(CategoryBudget, "category_budget_amount_is_positive"):
        CategoryBudgetFactory(fund=fund, funding_category=category, amount=amount)

    assert not CategoryBudget.objects.exists()


# 11. Ledger entries and control-total revisions are append-only ------------------------------------

HISTORY_MODELS = [
    pytest.param(LedgerEntry, id="ledger-entry"),
    pytest.param(ControlTotalRevision, id="control-total-revision"),
]


@pytest.fixture
def history_rows(award, revision):
    return {LedgerEntry: award, ControlTotalRevision: revision}


def stored_row(row: models.Model) -> dict:
    return type(row).objects.filter(pk=row.pk).values().get()


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (LedgerEntry, "A ledger entry cannot be changed once recorded; record a new one."),
        (ControlTotalRevision, "A control total revision cannot be changed once recorded; record a new one."),
    ],
    ids=["ledger-entry", "control-total-revision"],
)
def test_a_recorded_row_cannot_be_saved_again(history_rows, model, message):
    row = history_rows[model]
    before = stored_row(row)
    row.memo = "Changed after the event"

    with pytest.raises(ValidationError) as excinfo:
        row.save()

    assert excinfo.value.messages == [message]
    assert stored_row(row) == before


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (LedgerEntry, "A ledger entry cannot be deleted; record a correcting entry instead."),
        (
            ControlTotalRevision,
            "A control total revision cannot be deleted; record a correcting entry instead.",
        ),
    ],
    ids=["ledger-entry", "control-total-revision"],
)
def test_a_recorded_row_cannot_be_deleted(history_rows, model, message):
    row = history_rows[model]

    with pytest.raises(ValidationError) as excinfo:
        row.delete()

    assert excinfo.value.messages == [message]
    assert model.objects.filter(pk=row.pk).exists()


QUERYSET_REFUSALS = [
    pytest.param(LedgerEntry, "Ledger entries are append-only.", id="ledger-entry"),
    pytest.param(
        ControlTotalRevision, "Control total revisions are append-only.", id="control-total-revision"
    ),
]


@pytest.mark.parametrize(("model", "message"), QUERYSET_REFUSALS)
def test_queryset_update_of_history_is_refused(history_rows, model, message):
    row = history_rows[model]
    before = stored_row(row)

    with pytest.raises(ValidationError) as excinfo:
        model.objects.filter(pk=row.pk).update(memo="Changed after the event")

    assert excinfo.value.messages == [message]
    assert stored_row(row) == before


@pytest.mark.parametrize(("model", "message"), QUERYSET_REFUSALS)
def test_bulk_update_of_history_is_refused(history_rows, model, message):
    row = history_rows[model]
    before = stored_row(row)
    row.memo = "Changed after the event"

    # bulk_update() runs in the caller's transaction (atomic without a savepoint): give it one.
    with pytest.raises(ValidationError) as excinfo, transaction.atomic():
        model.objects.bulk_update([row], ["memo"])

    assert excinfo.value.messages == [message]
    assert stored_row(row) == before


@pytest.mark.parametrize(("model", "message"), QUERYSET_REFUSALS)
def test_queryset_delete_of_history_is_refused(history_rows, model, message):
    row = history_rows[model]

    with pytest.raises(ValidationError) as excinfo:
        model.objects.all().delete()

    assert excinfo.value.messages == [message]
    assert model.objects.filter(pk=row.pk).exists()


def append_only_refusal(model: type[models.Model]) -> str:
    """The message of the append-only triggers (migration 0002, and 0006 for ledger entries)."""
    return f"rows of {model._meta.db_table} are append-only: record a correcting entry instead"


def a_different_value(field: models.Field, value):
    """A value of `field`'s type other than `value`, ready for the database driver."""
    if field.primary_key or field.is_relation:
        changed = (value or 0) + 1000
    elif isinstance(field, CurrencyField):
        changed = "EUR"
    elif isinstance(field, models.BooleanField):
        changed = not value
    elif field.choices:
        changed = next(choice for choice, _label in field.choices if choice != value)
    elif isinstance(field, models.UUIDField):
        changed = uuid.uuid4()
    elif isinstance(field, MoneyField):
        changed = value.amount + 1
    elif isinstance(field, models.DateTimeField) and value is None:
        changed = datetime.datetime(2020, 8, 20, 9, 30, tzinfo=datetime.UTC)
    elif isinstance(field, models.DateTimeField | models.DateField):
        changed = value + datetime.timedelta(days=1)
    elif isinstance(field, models.CharField | models.TextField):
        changed = f"{value} (changed)"
    elif isinstance(field, models.PositiveSmallIntegerField):
        changed = 2023 if value is None else value + 1
    else:
        raise AssertionError(f"Teach a_different_value() how to change {field!r}.")
    return field.get_db_prep_save(changed, connection)


# The one change a ledger entry takes: its approval, or its rejection, set once on a pending entry.
APPROVAL_FIELDS = ("approved_at", "approved_by")
REJECTION_FIELDS = ("rejected_at", "rejected_by", "rejection_reason")


def refusal_of(model, field_name: str) -> str:
    """What refuses a change of one column by SQL: the append-only guard; for a rejection column
    alone (which the guard lets go from empty to a value once), the rules that a rejection says who,
    when and why, and that an entry is not both approved and rejected (either may fire first)."""
    if field_name in REJECTION_FIELDS:
        return "|".join(
            [
                re.escape(append_only_refusal(model)),
                "ledger_entry_rejection_has_who_when_and_why",
                "ledger_entry_is_not_both_approved_and_rejected",
            ]
        )
    return re.escape(append_only_refusal(model))


@pytest.fixture
def pending_entry(allocation):
    """A variation of +£50.00 on `allocation`, recorded by a finance officer and awaiting approval."""
    return services.allocation_set_amount(
        allocation=allocation,
        amount="150.00",
        memo="Variation letter",
        acting_user=UserFactory(username="recorder"),
    )


HISTORY_COLUMNS = [
    # The award is approved (as loaded), so even its approval columns are refused.
    pytest.param(model, field.name, "recorded", id=f"{model._meta.db_table}.{field.column}")
    for model in (LedgerEntry, ControlTotalRevision)
    for field in model._meta.concrete_fields
] + [
    pytest.param(
        LedgerEntry, field.name, "pending", id=f"pending-{LedgerEntry._meta.db_table}.{field.column}"
    )
    for field in LedgerEntry._meta.concrete_fields
    if field.name not in APPROVAL_FIELDS
]


@pytest.mark.parametrize(("model", "field_name", "state"), HISTORY_COLUMNS)
def test_sql_update_of_any_column_of_history_is_refused(request, history_rows, model, field_name, state):
    # The SQLite trigger lists the columns it watches; this fails for a column it does not.
    row = request.getfixturevalue("pending_entry") if state == "pending" else history_rows[model]
    field = model._meta.get_field(field_name)
    before = stored_row(row)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    sql = f"UPDATE {table} SET {quote(field.column)} = %s WHERE {pk} = %s"

    with (
        pytest.raises(IntegrityError, match=refusal_of(model, field_name)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [a_different_value(field, getattr(row, field.attname)), row.pk])

    assert stored_row(row) == before


def test_sql_update_may_not_approve_a_pending_entry_without_an_approver(pending_entry):
    table, pk = quote(LedgerEntry._meta.db_table), quote(LedgerEntry._meta.pk.column)
    approved_at = LedgerEntry._meta.get_field("approved_at").get_db_prep_save(
        datetime.datetime(2020, 8, 20, 9, 30, tzinfo=datetime.UTC), connection
    )
    before = stored_row(pending_entry)
    with (
        pytest.raises(IntegrityError, match="ledger_entry_approval_names_its_approver"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE {table} SET {quote('approved_at')} = %s WHERE {pk} = %s", [approved_at, pending_entry.pk]
        )
    assert stored_row(pending_entry) == before
    # Nor by marking it approved outside the ledger: that column never changes once written.
    with (
        pytest.raises(IntegrityError, match=re.escape(append_only_refusal(LedgerEntry))),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE {table} SET {quote('approved_at')} = %s, {quote('approved_outside_ledger')} = %s "
            f"WHERE {pk} = %s",
            [approved_at, True, pending_entry.pk],
        )
    assert stored_row(pending_entry) == before


def test_sql_update_may_not_approve_an_entry_by_its_recorder(pending_entry):
    table, pk = quote(LedgerEntry._meta.db_table), quote(LedgerEntry._meta.pk.column)
    approved_at = LedgerEntry._meta.get_field("approved_at").get_db_prep_save(
        datetime.datetime(2020, 8, 20, 9, 30, tzinfo=datetime.UTC), connection
    )
    with (
        pytest.raises(IntegrityError, match="ledger_entry_is_approved_by_someone_else"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE {table} SET {quote('approved_at')} = %s, {quote('approved_by_id')} = %s WHERE {pk} = %s",
            [approved_at, pending_entry.recorded_by_id, pending_entry.pk],
        )
    pending_entry.refresh_from_db()
    assert pending_entry.is_pending


def test_sql_insert_of_an_entry_approved_outside_the_ledger_needs_a_data_load(allocation):
    columns = {
        "uuid": uuid.uuid4().hex,
        "fund_id": allocation.fund_id,
        "allocation_id": allocation.pk,
        "kind": "variation",
        "amount": "1.00",
        "amount_currency": "GBP",
        "effective_date": "2020-08-20",
        "reference": "",
        "memo": "Forged decision",
        "recorded_at": "2020-08-20 09:30:00",
        "approved_at": "2020-08-20 09:30:00",
        "approved_outside_ledger": True,
    }
    table = quote(LedgerEntry._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(column) for column in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    before = LedgerEntry.objects.count()
    with (
        pytest.raises(IntegrityError, match="only a data load may record an entry as approved"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, list(columns.values()))
    assert LedgerEntry.objects.count() == before
    # A data load may (the seed's decisions are loaded so).
    with transaction.atomic(), data_load(), connection.cursor() as cursor:
        cursor.execute(sql, list(columns.values()))
    assert LedgerEntry.objects.count() == before + 1
    assert LedgerEntry.objects.get(memo="Forged decision").approved_outside_ledger


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_sql_update_may_decide_a_pending_entry_once_and_then_refuses_any_change(pending_entry, decision):
    decider = UserFactory(username="decider")
    when = datetime.datetime(2020, 8, 20, 9, 30, tzinfo=datetime.UTC)
    at = LedgerEntry._meta.get_field("approved_at").get_db_prep_save(when, connection)
    if decision == "approve":
        columns = {"approved_at": at, "approved_by_id": decider.pk}
        fields, expected = APPROVAL_FIELDS, {"approved_at": when, "approved_by_id": decider.pk}
    else:
        columns = {"rejected_at": at, "rejected_by_id": decider.pk, "rejection_reason": "Duplicate"}
        fields = REJECTION_FIELDS
        expected = {"rejected_at": when, "rejected_by_id": decider.pk, "rejection_reason": "Duplicate"}
    table, pk = quote(LedgerEntry._meta.db_table), quote(LedgerEntry._meta.pk.column)
    before = stored_row(pending_entry)
    assignments = ", ".join(f"{quote(column)} = %s" for column in columns)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} WHERE {pk} = %s", [*columns.values(), pending_entry.pk]
        )
        assert cursor.rowcount == 1

    decided = stored_row(pending_entry)
    assert decided == before | expected
    pending_entry.refresh_from_db()
    # Another value, back to empty, or the other decision as well: each is refused.
    for field_name in (*APPROVAL_FIELDS, *REJECTION_FIELDS):
        field = LedgerEntry._meta.get_field(field_name)
        current = getattr(pending_entry, field.attname)
        changes = [a_different_value(field, current)] + ([None] if current not in (None, "") else [])
        for value in changes:
            with (
                pytest.raises(IntegrityError),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(
                    f"UPDATE {table} SET {quote(field.column)} = %s WHERE {pk} = %s",
                    [value, pending_entry.pk],
                )
            assert stored_row(pending_entry) == decided
    assert fields


@pytest.mark.parametrize("model", HISTORY_MODELS)
def test_sql_update_that_changes_nothing_is_allowed(history_rows, model):
    # So that loading the same fixture twice is harmless.
    row = history_rows[model]
    before = stored_row(row)
    columns = [field.column for field in model._meta.concrete_fields if not field.primary_key]
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    assignments = ", ".join(f"{quote(column)} = {quote(column)}" for column in columns)
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [row.pk])
        assert cursor.rowcount == 1

    assert stored_row(row) == before


@pytest.mark.parametrize("model", HISTORY_MODELS)
def test_sql_delete_of_history_is_refused_on_postgresql_and_left_to_the_orm_on_sqlite(history_rows, model):
    row = history_rows[model]
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    sql = f"DELETE FROM {table} WHERE {pk} = %s"

    if connection.vendor == "postgresql":
        with (
            pytest.raises(IntegrityError, match=re.escape(append_only_refusal(model))),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [row.pk])
        assert model.objects.filter(pk=row.pk).exists()
    else:
        # Migration 0002 gives SQLite no DELETE trigger, because Django empties SQLite tables with
        # DELETE between transactional tests. Only the ORM refuses deletes there.
        assert connection.vendor == "sqlite"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [row.pk])
            assert cursor.rowcount == 1
        assert not model.objects.filter(pk=row.pk).exists()


def test_saving_a_new_instance_over_a_recorded_entry_inserts_and_is_refused(award):
    # A fresh instance with an existing row's primary key is saved with force_insert, so it can
    # never become an UPDATE of the recorded row: the primary key refuses the duplicate.
    impostor = ledger_entry(award.allocation, kind=LedgerEntry.Kind.AWARD, amount=Decimal("999.00"))
    impostor.pk = award.pk
    impostor.uuid = award.uuid

    with pytest.raises(IntegrityError), transaction.atomic():
        impostor.save()

    assert entries_on(award.allocation) == [("award", Decimal("100.00"))]


# 12. The service layer -----------------------------------------------------------------------------


@pytest.fixture
def line_details(fund):
    return {
        "fund": fund,
        "line_number": 1,
        "organisation": OrganisationFactory(),
        "thematic_area": ThematicAreaFactory(),
        "funding_category": FundingCategoryFactory(),
        "memo": "Award letter of 19 August 2020",
        "acting_user": None,
    }


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1.005", "1.005 is not an amount in pounds and pence (at most 2 decimal places)."),
        (THREE_PLACES, "80528.425 is not an amount in pounds and pence (at most 2 decimal places)."),
        (1.5, "money is never a float; pass a Decimal, an int or a string"),
        ("abc", "abc is not an amount in pounds and pence (at most 2 decimal places)."),
        (Money(Decimal("100.00"), "EUR"), "Amounts must be in pounds sterling, not EUR."),
        ("0.00", AWARD_POSITIVE),
        ("-100.00", AWARD_POSITIVE),
    ],
    ids=["three-places", "three-places-decimal", "float", "text", "euros", "zero", "negative"],
)
def test_allocation_create_refuses_a_bad_amount_and_writes_nothing(line_details, amount, message):
    with pytest.raises(ValidationError) as excinfo:
        services.allocation_create(amount=amount, **line_details)

    assert excinfo.value.message_dict == {"amount": [message]}
    assert not Allocation.objects.exists()
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-0.01", "An allocation cannot be varied below £0.00."),
        ("-100.00", "An allocation cannot be varied below £0.00."),
        ("80528.425", "80528.425 is not an amount in pounds and pence (at most 2 decimal places)."),
        (1.5, "money is never a float; pass a Decimal, an int or a string"),
    ],
    ids=["a-penny-below-zero", "negative", "three-places", "float"],
)
def test_allocation_set_amount_refuses_a_negative_or_inexact_figure(allocation, amount, message):
    with pytest.raises(ValidationError) as excinfo:
        services.allocation_set_amount(allocation=allocation, amount=amount, memo="Varied", acting_user=None)

    assert excinfo.value.message_dict == {"amount": [message]}
    assert entries_on(allocation) == [("award", Decimal("100.00"))]


def test_allocation_set_amount_down_to_zero_is_allowed(allocation):
    services.allocation_set_amount(allocation=allocation, amount="0.00", memo="Withdrawn", acting_user=None)

    assert entries_on(allocation) == [("award", Decimal("100.00")), ("variation", Decimal("-100.00"))]
