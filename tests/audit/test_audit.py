"""The audit trail: every change to the audited tables is recorded by the database, with who and why.

Writes go through the services (or the ORM where no service exists yet) inside
`transaction.atomic()` and `audit_context()`, as the services will do themselves. The bypass tests
write as other clients would: raw SQL and `QuerySet.update()` on PostgreSQL (recorded, with the
database user and no actor), and a connection that is not the app's on SQLite (refused).
"""

import datetime
import re
import sqlite3
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.db.transaction import TransactionManagementError
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from djmoney.money import Money

from audit import triggers as audit_triggers
from audit.context import Actor, AuditUserMiddleware, current
from audit.context import context as audit_context
from audit.models import AuditEvent
from audit.tables import AUDITED_TABLES, UNAUDITED_TABLES
from grants import services
from grants.models import (
    Allocation,
    CategoryBudget,
    ControlTotalRevision,
    Fund,
    Funder,
    FundingCategory,
    LedgerEntry,
    Organisation,
    ReturnSubmission,
    ThematicArea,
)
from tests.factories import (
    FunderFactory,
    FundFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    ThematicAreaFactory,
    UserFactory,
)

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's triggers")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers")


def events(model, pk) -> list[AuditEvent]:
    """The events of one row, oldest first."""
    return list(AuditEvent.objects.filter(table_name=model._meta.db_table, row_id=pk).order_by("id"))


def last_event(model, pk) -> AuditEvent:
    return events(model, pk)[-1]


def amount(value) -> Decimal:
    """An amount as the trigger stored it (SQLite keeps 1000.00 as the integer 1000)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def changed(event: AuditEvent) -> dict:
    """{column: (before, after)} for the columns an update changed."""
    return {
        key: (event.before[key], event.after[key])
        for key in event.after
        if event.before.get(key) != event.after[key]
    }


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


def test_every_model_of_the_ledger_is_audited():
    tables = {
        model._meta.db_table for app in ("grants", "audit") for model in apps.get_app_config(app).get_models()
    }
    ledger_tables = {table for table in AUDITED_TABLES if table.startswith("grants_")}
    assert tables - set(UNAUDITED_TABLES) == ledger_tables


def test_users_groups_and_their_permissions_are_audited():
    tables = {
        model._meta.db_table
        for model in apps.get_app_config("auth").get_models(include_auto_created=True)
        if model._meta.db_table != "auth_permission"  # the permissions themselves come from the code
    }
    assert tables == {table for table in AUDITED_TABLES if table.startswith("auth_")}


# Funds and control totals


def test_fund_created_through_the_service_is_recorded_with_who_when_and_why(alice):
    funder = FunderFactory()
    started = timezone.now()
    with transaction.atomic(), audit_context(user=alice, reason="Award letter of 1 April"):
        fund = services.fund_save(
            fund=Fund(
                code="pcc-2024",
                name="Victims fund",
                funder=funder,
                spend_start=datetime.date(2024, 4, 1),
                spend_end=datetime.date(2025, 3, 31),
                control_total=Money("1234.56", "GBP"),
            ),
            acting_user=alice,
        )
    [event] = events(Fund, fund.pk)
    assert event.action == AuditEvent.Action.INSERT
    assert (event.actor_id, event.actor_username) == (alice.pk, "alice")
    assert event.reason == "Award letter of 1 April"
    assert event.before is None
    assert event.after["code"] == "pcc-2024"
    assert event.after["funder_id"] == funder.pk
    assert amount(event.after["control_total"]) == Decimal("1234.56")
    assert event.after["control_total_currency"] == "GBP"
    assert (event.fund_id, event.allocation_id) == (fund.pk, None)
    assert abs(event.occurred_at - started) < datetime.timedelta(minutes=1)
    expected_db_user = connection.settings_dict["USER"] if connection.vendor == "postgresql" else "sqlite"
    assert event.db_user == expected_db_user


def test_control_total_change_records_the_fund_and_its_revision_with_the_memo(alice):
    fund = FundFactory(control_total=Money("1000.00", "GBP"))
    fund.control_total = Money("1500.00", "GBP")
    with transaction.atomic(), audit_context(user=alice, reason="Revised award letter, 3 May"):
        services.fund_save(fund=fund, acting_user=alice, memo="Revised award letter, 3 May")

    update = last_event(Fund, fund.pk)
    assert update.action == AuditEvent.Action.UPDATE
    assert {key: tuple(map(amount, values)) for key, values in changed(update).items()} == {
        "control_total": (Decimal("1000.00"), Decimal("1500.00")),
        # Every saved change raises the row's version (services.check_and_bump_version).
        "version": (Decimal("1"), Decimal("2")),
    }
    assert update.reason == "Revised award letter, 3 May"
    revision = ControlTotalRevision.objects.get(fund=fund)
    [recorded] = events(ControlTotalRevision, revision.pk)
    assert recorded.action == AuditEvent.Action.INSERT
    assert recorded.fund_id == fund.pk
    assert amount(recorded.after["new_amount"]) == Decimal("1500.00")
    assert recorded.actor_username == "alice"


def test_a_save_that_changes_nothing_records_nothing(alice):
    fund = FundFactory()
    before = AuditEvent.objects.count()
    with transaction.atomic(), audit_context(user=alice):
        Fund.objects.get(pk=fund.pk).save()
    assert AuditEvent.objects.count() == before


def test_fund_deletion_is_recorded_with_the_row_as_it_was(alice):
    fund = FundFactory(code="to-go")
    with transaction.atomic(), audit_context(user=alice, reason="Entered twice"):
        Fund.objects.filter(pk=fund.pk).delete()
    event = last_event(Fund, fund.pk)
    assert event.action == AuditEvent.Action.DELETE
    assert event.after is None
    assert event.before["code"] == "to-go"
    assert (event.fund_id, event.reason) == (fund.pk, "Entered twice")


def test_category_budget_insert_update_and_delete_are_recorded_against_the_fund(alice):
    fund = FundFactory()
    category = FundingCategoryFactory()
    with transaction.atomic(), audit_context(user=alice, reason="Ring-fence"):
        budget = CategoryBudget.objects.create(
            fund=fund, funding_category=category, amount=Money("500.00", "GBP")
        )
        budget.amount = Money("450.50", "GBP")
        budget.save()
        budget_pk = budget.pk
        budget.delete()
    inserted, updated, deleted = events(CategoryBudget, budget_pk)
    assert [inserted.action, updated.action, deleted.action] == ["insert", "update", "delete"]
    assert {event.fund_id for event in (inserted, updated, deleted)} == {fund.pk}
    before, after = changed(updated)["amount"]
    assert (amount(before), amount(after)) == (Decimal("500.00"), Decimal("450.50"))
    assert deleted.before["funding_category_id"] == category.pk


# Organisations, funders and reference data (they belong to no fund)


def test_organisation_create_update_and_delete_are_recorded(alice, bob):
    with transaction.atomic(), audit_context(user=alice):
        organisation = services.organisation_create(name="Birmingham Crisis Centre", acting_user=alice)
    organisation.charity_number = "1106046"
    with transaction.atomic(), audit_context(user=bob, reason="Charity number from the register"):
        services.organisation_update(organisation=organisation, acting_user=bob)
    with transaction.atomic(), audit_context(user=bob, reason="Duplicate"):
        Organisation.objects.filter(pk=organisation.pk).delete()

    inserted, updated, deleted = events(Organisation, organisation.pk)
    assert inserted.after["name"] == "Birmingham Crisis Centre"
    assert inserted.actor_username == "alice"
    assert changed(updated) == {"charity_number": ("", "1106046"), "version": (1, 2)}
    assert (updated.actor_username, updated.reason) == ("bob", "Charity number from the register")
    assert deleted.before["charity_number"] == "1106046"
    assert {(event.fund_id, event.allocation_id) for event in (inserted, updated, deleted)} == {(None, None)}


@pytest.mark.parametrize(
    ("model", "factory"),
    [(Funder, FunderFactory), (ThematicArea, ThematicAreaFactory), (FundingCategory, FundingCategoryFactory)],
)
def test_funders_and_reference_data_changes_are_recorded(alice, model, factory):
    row = factory(code="a-code", name="A name")
    with transaction.atomic(), audit_context(user=alice, reason="Renamed"):
        row.name = "A better name"
        row.save()
        model.objects.filter(pk=row.pk).delete()
    inserted, updated, deleted = events(model, row.pk)
    assert (inserted.action, inserted.actor_id) == ("insert", None)
    assert changed(updated) == {"name": ("A name", "A better name")}
    assert (updated.actor_username, updated.reason) == ("alice", "Renamed")
    assert deleted.action == "delete"
    assert deleted.before["code"] == "a-code"


# Allocations and their ledger entries


def make_line(fund, user, amount="100.00", service="") -> Allocation:
    """A line and its award, written through the ORM.

    The services are being changed to record the fund on each entry (issue 5); until then this
    writes what they will write.
    """
    allocation = Allocation.objects.create(
        fund=fund,
        line_number=Allocation.objects.filter(fund=fund).count() + 1,
        organisation=OrganisationFactory(),
        thematic_area=ThematicAreaFactory(),
        funding_category=FundingCategoryFactory(),
        service=service,
    )
    record_entry(allocation, user, "award", amount)
    return allocation


def record_entry(allocation, user, kind, amount, memo="Award") -> LedgerEntry:
    entry = LedgerEntry(
        fund=allocation.fund,
        allocation=allocation,
        kind=kind,
        amount=Money(amount, "GBP"),
        effective_date=datetime.date(2020, 8, 19),
        memo=memo,
        recorded_by=user,
    )
    entry.save()
    return entry


def test_a_new_line_and_its_award_entry_are_recorded(alice):
    fund = FundFactory()
    with transaction.atomic(), audit_context(user=alice, reason="New line"):
        allocation = make_line(fund, alice, amount="250.00")
    [line] = events(Allocation, allocation.pk)
    assert (line.action, line.fund_id, line.allocation_id) == ("insert", fund.pk, allocation.pk)
    award = LedgerEntry.objects.get(allocation=allocation)
    [entry] = events(LedgerEntry, award.pk)
    assert (entry.action, entry.fund_id, entry.allocation_id) == ("insert", fund.pk, allocation.pk)
    assert entry.after["kind"] == "award"
    assert amount(entry.after["amount"]) == Decimal("250.00")
    assert entry.after["recorded_by_id"] == alice.pk
    assert (entry.actor_username, entry.reason) == ("alice", "New line")


def test_allocation_update_and_a_variation_are_recorded_with_the_memo(alice):
    allocation = make_line(FundFactory(), alice, service="Helpline")
    allocation.service = "Helpline and outreach"
    with transaction.atomic(), audit_context(user=alice, reason="Service renamed by the provider"):
        services.allocation_update(allocation=allocation, acting_user=alice)
    with transaction.atomic(), audit_context(user=alice, reason="Extra quarter agreed"):
        variation = record_entry(allocation, alice, "variation", "75.25", memo="Extra quarter agreed")

    update = last_event(Allocation, allocation.pk)
    assert changed(update) == {"service": ("Helpline", "Helpline and outreach"), "version": (1, 2)}
    assert update.reason == "Service renamed by the provider"
    [entry] = events(LedgerEntry, variation.pk)
    assert entry.after["kind"] == "variation"
    assert amount(entry.after["amount"]) == Decimal("75.25")
    assert (entry.allocation_id, entry.reason) == (allocation.pk, "Extra quarter agreed")


def test_a_return_to_the_funder_is_recorded_against_the_fund_alone(alice):
    fund = FundFactory()
    with transaction.atomic(), audit_context(user=alice, reason="Unspent balance"):
        entry = LedgerEntry.objects.create(
            fund=fund,
            kind="returned_to_funder",
            amount=Money("12.34", "GBP"),
            effective_date=datetime.date(2021, 4, 30),
            reference="BACS-2021-0001",
            memo="Unspent balance",
            recorded_by=alice,
        )
    [event] = events(LedgerEntry, entry.pk)
    assert (event.fund_id, event.allocation_id) == (fund.pk, None)


def test_allocation_deletion_is_recorded(alice):
    fund = FundFactory()
    allocation = Allocation.objects.create(
        fund=fund,
        line_number=7,
        organisation=OrganisationFactory(),
        thematic_area=ThematicAreaFactory(),
        funding_category=FundingCategoryFactory(),
    )
    with transaction.atomic(), audit_context(user=alice, reason="Never awarded"):
        Allocation.objects.filter(pk=allocation.pk).delete()
    event = last_event(Allocation, allocation.pk)
    assert (event.action, event.before["line_number"], event.after) == ("delete", 7, None)
    assert (event.fund_id, event.allocation_id) == (fund.pk, allocation.pk)


def test_ledger_entry_approval_is_recorded_as_an_update(alice, bob):
    entry = LedgerEntry.objects.get(allocation=make_line(FundFactory(), alice))
    approved_at = timezone.now()
    with transaction.atomic(), audit_context(user=bob, reason="Checked against the award letter"):
        # The one change an entry takes; the append-only manager refuses update(), as it should.
        models.QuerySet(LedgerEntry).filter(pk=entry.pk).update(approved_by=bob, approved_at=approved_at)
    event = last_event(LedgerEntry, entry.pk)
    assert event.action == "update"
    assert set(changed(event)) == {"approved_by_id", "approved_at"}
    assert changed(event)["approved_by_id"] == (None, bob.pk)
    assert (event.actor_username, event.reason) == ("bob", "Checked against the award letter")


def test_return_submission_and_its_reopening_are_recorded_without_the_workbook_bytes(alice, bob):
    fund = FundFactory()
    with transaction.atomic(), audit_context(user=alice, reason="Sent to the MoJ"):
        submission = ReturnSubmission.objects.create(
            fund=fund,
            version=1,
            file_name="return.xlsx",
            workbook=b"PK\x03\x04 workbook",
            sha256="a" * 64,
            submitted_by=alice,
        )
    submission.reopened_by, submission.reopened_at = bob, timezone.now()
    submission.reopen_reason = "Line 4 was wrong"
    with transaction.atomic(), audit_context(user=bob, reason="Line 4 was wrong"):
        submission.save()

    inserted, reopened = events(ReturnSubmission, submission.pk)
    assert "workbook" not in inserted.after
    assert inserted.after["workbook_bytes"] == 13
    assert inserted.after["sha256"] == "a" * 64
    assert inserted.fund_id == fund.pk
    assert set(changed(reopened)) == {"reopened_by_id", "reopened_at", "reopen_reason"}
    assert reopened.reason == "Line 4 was wrong"


# Transactions and context


def test_a_rolled_back_change_leaves_no_event(alice):
    with pytest.raises(RuntimeError), transaction.atomic(), audit_context(user=alice, reason="Oops"):
        Organisation.objects.create(name="Never saved")
        # Positive control: inside the transaction the trigger has written the event.
        assert AuditEvent.objects.filter(table_name="grants_organisation", after__name="Never saved").exists()
        raise RuntimeError("the service failed after saving")
    assert not AuditEvent.objects.filter(table_name="grants_organisation", after__name="Never saved").exists()


def test_nested_context_overrides_the_reason_and_restores_it_on_exit(alice, bob):
    with transaction.atomic(), audit_context(user=alice, reason="Outer"):
        first = OrganisationFactory()
        with audit_context(reason="Inner"):
            second = OrganisationFactory()
            with audit_context(user=bob):
                third = OrganisationFactory()
        fourth = OrganisationFactory()
    recorded = [last_event(Organisation, org.pk) for org in (first, second, third, fourth)]
    assert [(event.actor_username, event.reason) for event in recorded] == [
        ("alice", "Outer"),
        ("alice", "Inner"),
        ("bob", "Inner"),
        ("alice", "Outer"),
    ]


def test_changes_outside_any_context_have_no_actor(db):
    organisation = OrganisationFactory()
    event = last_event(Organisation, organisation.pk)
    assert (event.actor_id, event.actor_username, event.reason) == (None, "", "")


@pytest.mark.django_db(transaction=True)
def test_context_must_be_used_inside_a_transaction():
    with pytest.raises(TransactionManagementError, match="inside transaction.atomic"), audit_context():
        pass


def test_middleware_makes_the_signed_in_user_the_actor_and_services_add_their_reason(alice):
    def view(request):
        OrganisationFactory(name="From a form")
        with transaction.atomic(), audit_context(user=request.user, reason="Memo from the form"):
            OrganisationFactory(name="From a service")
        return HttpResponse("ok")

    request = RequestFactory().post("/")
    request.user = alice
    AuditUserMiddleware(view)(request)

    by_name = {
        event.after["name"]: event
        for event in AuditEvent.objects.filter(table_name="grants_organisation", action="insert")
    }
    assert (by_name["From a form"].actor_username, by_name["From a form"].reason) == ("alice", "")
    assert (by_name["From a service"].actor_username, by_name["From a service"].reason) == (
        "alice",
        "Memo from the form",
    )
    assert current() == Actor()
    if connection.vendor == "postgresql":
        # The connection outlives the request: the next request must not inherit alice.
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('ledger.actor_id', true)")
            assert cursor.fetchone() == ("",)


# Writes that bypass the ORM's save()


@postgres_only
def test_raw_sql_on_postgresql_is_recorded_with_the_database_user_and_no_actor(alice):
    fund = FundFactory(control_total=Money("1000.00", "GBP"))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE grants_fund SET control_total = 999999.99 WHERE id = %s", [fund.pk])
    event = last_event(Fund, fund.pk)
    assert event.action == "update"
    before, after = changed(event)["control_total"]
    assert (amount(before), amount(after)) == (Decimal("1000.00"), Decimal("999999.99"))
    assert (event.actor_id, event.actor_username, event.reason) == (None, "", "")
    assert event.db_user == connection.settings_dict["USER"] == "postgres"


@postgres_only
def test_queryset_update_on_postgresql_is_recorded_row_by_row(db):
    first, second = OrganisationFactory(notes=""), OrganisationFactory(notes="")
    Organisation.objects.filter(pk__in=[first.pk, second.pk]).update(notes="Bulk edited")
    for organisation in (first, second):
        event = last_event(Organisation, organisation.pk)
        assert changed(event) == {"notes": ("", "Bulk edited")}
        assert (event.actor_id, event.db_user) == (None, "postgres")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_another_client_on_postgresql_is_recorded():
    import psycopg2

    fund = FundFactory(notes="")
    settings = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432
    )
    try:
        with other, other.cursor() as cursor:
            cursor.execute("UPDATE grants_fund SET notes = 'edited in psql' WHERE id = %s", [fund.pk])
    finally:
        other.close()
    event = last_event(Fund, fund.pk)
    assert changed(event) == {"notes": ("", "edited in psql")}
    assert (event.actor_id, event.db_user) == (None, "postgres")


@sqlite_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE grants_fund SET notes = 'edited outside the app'",
        "DELETE FROM grants_organisation",
        "INSERT INTO grants_funder (code, name, short_name, org_identifier) VALUES ('x', 'X', '', '')",
    ],
)
def test_a_client_that_is_not_the_app_cannot_write_to_audited_tables_on_sqlite(statement):
    FundFactory(notes="")
    OrganisationFactory()
    name = connection.settings_dict["NAME"]
    other = sqlite3.connect(name, uri=str(name).startswith("file:"))
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such function: ledger_"):
            other.execute(statement)
    finally:
        other.close()
    assert Fund.objects.get().notes == ""
    assert Organisation.objects.count() == 1


# Audit events themselves


def test_audit_events_cannot_be_changed(alice):
    organisation = OrganisationFactory()
    event = last_event(Organisation, organisation.pk)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="Covering my tracks")
    with pytest.raises(ValidationError, match="written by the database's triggers only"):
        event.save()
    with pytest.raises(ValidationError, match="never deleted"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@postgres_only
def test_audit_events_cannot_be_deleted_on_postgresql(db):
    organisation = OrganisationFactory()
    event = last_event(Organisation, organisation.pk)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM grants_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@postgres_only
def test_audit_events_cannot_be_forged_on_postgresql(db):
    with (
        pytest.raises(DatabaseError, match="written by the audit triggers only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO grants_auditevent (occurred_at, table_name, row_id, action, fund_id, "
            "actor_username, reason, db_user) "
            "VALUES (now(), 'grants_fund', 1, 'update', 1, 'someone-else', 'Forged', 'postgres')"
        )
    assert not AuditEvent.objects.filter(reason="Forged").exists()


# The triggers match the schema


def _sqlite_triggers() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        return dict(cursor.fetchall())


def _columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {info.name for info in connection.introspection.get_table_description(cursor, table)}


@sqlite_only
@pytest.mark.parametrize("table", sorted(AUDITED_TABLES))
def test_sqlite_audit_triggers_name_every_column_of_their_table(db, table):
    """SQLite triggers list their columns; a migration that changes a table must reinstall them."""
    triggers = _sqlite_triggers()
    spec = AUDITED_TABLES[table]
    columns = _columns(table) - set(spec.hidden())
    for action, row in [("insert", "NEW"), ("update", "OLD"), ("update", "NEW"), ("delete", "OLD")]:
        pairs = re.findall(rf"'(\w+)', (?:length\()?{row}\.(\w+)", triggers[f"{table}_audit_{action}"])
        recorded = {column for key, column in pairs if key != table}
        assert recorded == columns, f"{table}_audit_{action} ({row}) does not match the table"
        assert all(key in (column, f"{column}_bytes") for key, column in pairs if key != table)
    compared = set(re.findall(r"OLD\.(\w+) IS NOT NEW\.", triggers[f"{table}_audit_update"]))
    assert compared == columns | set(spec.secret)


@postgres_only
def test_postgresql_audit_triggers_are_enabled_on_every_audited_table(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = c.relname || '_audit' AND t.tgenabled = 'O'"
        )
        assert {row[0] for row in cursor.fetchall()} == set(AUDITED_TABLES)


@pytest.mark.django_db(transaction=True)
def test_install_audit_triggers_can_be_rerun_after_a_schema_change():
    alice = UserFactory(username="alice")
    """What a later migration does after changing an audited table's columns."""
    with connection.schema_editor(atomic=False) as editor:
        audit_triggers.install_audit_triggers(editor, {"grants_funder": AUDITED_TABLES["grants_funder"]})
    with transaction.atomic(), audit_context(user=alice):
        funder = FunderFactory(code="again")
    assert events(Funder, funder.pk)[-1].actor_username == "alice"
