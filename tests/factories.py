"""factory_boy factories for the ledger's models. Allocations come with their award entry."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from djmoney.money import Money

from grants import services
from grants.models import (
    Allocation,
    CategoryBudget,
    Fund,
    Funder,
    FundingCategory,
    LedgerEntry,
    Organisation,
    ThematicArea,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"officer{n}")
    password = factory.django.Password("correct horse battery staple")


PAYMENT_DAY = datetime.date(2020, 9, 1)


def pay(allocation, amount, user, reference="BACS-1"):
    """Record a payment to `allocation` through the service, as a finance officer would."""
    return services.payment_record(
        allocation=allocation,
        amount=Decimal(amount),
        effective_date=PAYMENT_DAY,
        reference=reference,
        acting_user=user,
    )


def submit_return(fund, approver):
    """Submit the fund's return as an approver who ticked its variance, whatever it is (a return
    that does not reconcile needs that confirmation: tests/grants/test_submit_with_variance.py)."""
    from grants.models import Fund
    from grants.selectors import stored_reconciliation

    # Read again: the caller's object may hold a control total changed since (a profile, say).
    variance = stored_reconciliation(Fund.objects.get(pk=fund.pk)).variance
    return services.fund_submit_return(fund=fund, acting_user=approver, accepted_variance=variance)


def user_in_role(role: str, username: str):
    """A user in one of the roles the migrations create: Viewer, Finance officer or Approver."""
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


def approve_pending(**entry_filter) -> int:
    """Approve the matching pending entries through the service, as a stand-in approver who
    recorded none of them: for tests about something other than approval. Returns how many."""
    pending = list(LedgerEntry.objects.pending().filter(**entry_filter))
    if pending:
        approver, _ = get_user_model().objects.get_or_create(username="stand-in-approver")
        services.decisions_take(decision=services.Decision.APPROVE, acting_user=approver, entries=pending)
    return len(pending)


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class FunderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Funder
        django_get_or_create = ["code"]

    code = "moj"
    name = "Ministry of Justice"
    short_name = "MoJ"
    org_identifier = "GB-GOR-D18"


class ThematicAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ThematicArea
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"theme-{n}")
    name = factory.Sequence(lambda n: f"Theme {n}")


class FundingCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundingCategory
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fund

    code = factory.Sequence(lambda n: f"fund-{n}")
    name = factory.Sequence(lambda n: f"Test fund {n}")
    funder = factory.SubFactory(FunderFactory)
    spend_start = datetime.date(2020, 3, 23)
    spend_end = datetime.date(2020, 10, 31)
    control_total = Money(Decimal("1000.00"), "GBP")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Provider {n}")
    short_name = ""


class CategoryBudgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CategoryBudget

    fund = factory.SubFactory(FundFactory)
    funding_category = factory.SubFactory(FundingCategoryFactory)
    amount = Money(Decimal("500.00"), "GBP")


class AllocationFactory(factory.Factory):
    """Builds a line through `services.allocation_create`, so it always carries its award. The award
    is approved (by a stand-in approver) unless `approved=False`."""

    class Meta:
        model = Allocation

    fund = factory.SubFactory(FundFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    organisation = factory.SubFactory(OrganisationFactory)
    thematic_area = factory.SubFactory(ThematicAreaFactory)
    funding_category = factory.SubFactory(FundingCategoryFactory)
    service = ""
    amount = Decimal("100.00")
    memo = "Award"
    effective_date = datetime.date(2020, 8, 19)
    acting_user = None

    approved = True

    @classmethod
    def _create(cls, model_class, approved=True, **kwargs):
        allocation = services.allocation_create(**kwargs)
        if approved:
            approve_pending(allocation=allocation)
        return allocation

    @classmethod
    def _build(cls, model_class, **kwargs):
        raise NotImplementedError("Allocations are only made through services.allocation_create")


def write_around_the_formula_rule(model, field: str, pk, value: str) -> None:
    """Store `value` in a name or service although it begins like a formula, as a row written before
    the rule (migration 0016) would hold it: for tests of the exports' own second defence. The CHECK
    is lifted for this one statement (SQLite) or dropped for the rest of the test's transaction
    (PostgreSQL, rolled back with the test)."""
    from django.db import connection

    table = model._meta.db_table
    [constraint] = [
        constraint.name
        for constraint in model._meta.constraints
        if constraint.name.endswith(f"_{field}_does_not_begin_like_a_formula")
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending trigger events
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
        try:
            cursor.execute(f"UPDATE {table} SET {field} = %s WHERE id = %s", [value, pk])
        finally:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
