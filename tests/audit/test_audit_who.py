"""The audit trail records who really made a change at the database, and who may do what.

Beside the actor the application names (which any client holding the database's credentials can
claim with `set_config('ledger.actor_id', ...)`), each event carries the connection's login
(`session_user`) and address (`inet_client_addr()`), written by the trigger itself. Users, groups
and permissions are audited by the same triggers, never with a password's hash.
"""

import json
import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from audit.context import context as audit_context
from audit.models import AuditEvent
from audit.views import history_rows
from grants.models import Fund
from tests.factories import FundFactory, StaffUserFactory, UserFactory

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's triggers")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers")


def events(table: str, pk) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(table_name=table, row_id=pk).order_by("id"))


def expected_address():
    """Where the test connection comes from, as PostgreSQL sees it (None over a local socket)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT host(inet_client_addr())")
        return cursor.fetchone()[0]


# Who really did it


@postgres_only
def test_a_client_claiming_another_actor_still_leaves_its_login_and_address(db):
    alice = UserFactory(username="alice")
    fund = FundFactory(notes="")
    with transaction.atomic(), connection.cursor() as cursor:
        # What a client holding the database's credentials can do: name anyone as the actor.
        cursor.execute(
            "SELECT set_config('ledger.actor_id', %s, true), "
            "set_config('ledger.actor_username', 'alice', true)",
            [str(alice.pk)],
        )
        cursor.execute("UPDATE grants_fund SET notes = 'changed in psql' WHERE id = %s", [fund.pk])
    event = events("grants_fund", fund.pk)[-1]
    assert (event.actor_id, event.actor_username) == (alice.pk, "alice")  # the claim is recorded...
    # ...beside what the client could not choose.
    assert event.db_session_user == connection.settings_dict["USER"] == "postgres"
    assert event.client_address == expected_address()
    if connection.settings_dict["HOST"] == "127.0.0.1":
        assert event.client_address == "127.0.0.1"


@postgres_only
def test_set_role_changes_the_database_user_but_not_the_recorded_login(db):
    fund = FundFactory(notes="")
    role = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with transaction.atomic(), connection.cursor() as cursor:
        # Rolled back with the test's transaction: the role never outlives it.
        cursor.execute(f"CREATE ROLE {role}")
        cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute("UPDATE grants_fund SET notes = 'as another role' WHERE id = %s", [fund.pk])
        cursor.execute("RESET ROLE")
        event = events("grants_fund", fund.pk)[-1]
        assert event.after["notes"] == "as another role"
        assert (event.db_user, event.db_session_user) == (role, "postgres")


@postgres_only
def test_audit_events_written_through_the_app_carry_the_login_too(db):
    alice = UserFactory(username="alice")
    with transaction.atomic(), audit_context(user=alice, reason="New fund"):
        fund = FundFactory()
    [event] = events("grants_fund", fund.pk)
    assert (event.actor_username, event.db_session_user) == ("alice", "postgres")
    assert event.client_address == expected_address()


@postgres_only
def test_the_login_and_address_cannot_be_forged_into_an_event(db):
    with (
        pytest.raises(DatabaseError, match="written by the audit triggers only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO grants_auditevent (occurred_at, table_name, row_id, action, actor_username, "
            "reason, db_user, db_session_user, client_address) VALUES (now(), 'grants_fund', 1, "
            "'update', 'alice', 'Forged', 'postgres', 'someone', '10.9.9.9')"
        )
    assert not AuditEvent.objects.filter(client_address="10.9.9.9").exists()


@sqlite_only
def test_on_sqlite_the_login_is_sqlite_and_there_is_no_address(db):
    fund = FundFactory()
    [event] = events("grants_fund", fund.pk)
    assert (event.db_session_user, event.client_address) == ("sqlite", None)


def test_the_history_page_shows_the_login_and_address_where_the_database_has_them(db):
    fund = FundFactory()
    [event] = events("grants_fund", fund.pk)
    [row] = history_rows([event], link_allocations=False)
    if connection.vendor == "sqlite":
        assert row.connection == ""
    else:
        address = expected_address()
        where = f"from {address}" if address else "over a local socket"
        assert row.connection == f"Database login postgres, {where}"
    # The same wording for an event from a socket, and one from another host.
    event.db_session_user, event.client_address = "ledger", None
    assert history_rows([event], link_allocations=False)[0].connection == (
        "Database login ledger, over a local socket"
    )
    event.client_address = "10.0.0.7"
    row = history_rows([event], link_allocations=False)[0]
    assert row.connection == "Database login ledger, from 10.0.0.7"


def test_the_admin_lists_the_login_and_address_of_each_event(staff_client):
    fund = FundFactory()
    response = staff_client.get(reverse("admin:audit_auditevent_changelist"), {"table_name": "grants_fund"})
    assert response.status_code == 200
    assert "Database login" in response.text
    assert "Client address" in response.text
    event = events("grants_fund", fund.pk)[-1]
    detail = staff_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert detail.status_code == 200
    assert f"{event.db_session_user}" in detail.text


# Users, groups and permissions


def no_hash_anywhere(user_events, password_hash: str) -> None:
    for event in user_events:
        recorded = json.dumps([event.before, event.after])
        assert "password" not in (event.before or {})
        assert "password" not in (event.after or {})
        assert password_hash not in recorded
        assert password_hash.split("$")[-1] not in recorded


def test_a_new_user_is_recorded_without_their_password(db):
    user = UserFactory(username="carol", email="carol@example.org")
    [event] = events("auth_user", user.pk)
    assert event.action == "insert"
    assert (event.after["username"], event.after["email"]) == ("carol", "carol@example.org")
    assert event.after["is_superuser"] in (False, 0)
    no_hash_anywhere([event], user.password)


def test_a_password_change_is_recorded_as_such_and_never_its_hash(db):
    user = UserFactory(username="carol")
    old_hash = user.password
    user.set_password("a completely new passphrase")
    with transaction.atomic(), audit_context(user=user, reason="Changed own password"):
        user.save()
    *_, event = events("auth_user", user.pk)
    assert event.action == "update"
    assert event.after["password_changed"] is True
    assert event.reason == "Changed own password"
    # Nothing else changed, so nothing else shows as changed.
    assert {key for key in event.after if event.before.get(key) != event.after[key]} == {"password_changed"}
    no_hash_anywhere(events("auth_user", user.pk), old_hash)
    no_hash_anywhere(events("auth_user", user.pk), user.password)


def test_making_someone_a_superuser_is_recorded_with_who_did_it(db):
    admin_user = StaffUserFactory(username="root-admin")
    user = UserFactory(username="carol")
    user.is_superuser = user.is_staff = True
    user.is_active = False
    with transaction.atomic(), audit_context(user=admin_user):
        user.save()
    *_, event = events("auth_user", user.pk)
    assert event.actor_username == "root-admin"
    assert event.before["is_superuser"] in (False, 0) and event.after["is_superuser"] in (True, 1)
    assert event.before["is_staff"] in (False, 0) and event.after["is_staff"] in (True, 1)
    assert event.before["is_active"] in (True, 1) and event.after["is_active"] in (False, 0)
    assert event.after["password_changed"] is False


def test_signing_in_makes_no_event(client, db):
    user = UserFactory(username="carol")
    before = AuditEvent.objects.filter(table_name="auth_user", row_id=user.pk).count()
    client.force_login(user)  # sets last_login
    user.refresh_from_db()
    assert user.last_login is not None
    assert AuditEvent.objects.filter(table_name="auth_user", row_id=user.pk).count() == before == 1


def test_group_membership_and_permissions_are_recorded(db):
    user = UserFactory(username="carol")
    group = Group.objects.create(name="Auditors")
    permission = Permission.objects.get(codename="view_fund")
    group.permissions.add(permission)
    user.groups.add(group)
    user.user_permissions.add(permission)
    group.name = "External auditors"
    group.save()
    user.groups.remove(group)

    [created, renamed] = events("auth_group", group.pk)
    assert (created.action, created.after["name"]) == ("insert", "Auditors")
    assert (renamed.before["name"], renamed.after["name"]) == ("Auditors", "External auditors")

    granted = AuditEvent.objects.get(
        table_name="auth_group_permissions", action="insert", after__group_id=group.pk
    )
    assert granted.after["permission_id"] == permission.pk
    direct = AuditEvent.objects.get(
        table_name="auth_user_user_permissions", action="insert", after__user_id=user.pk
    )
    assert direct.after["permission_id"] == permission.pk
    membership = AuditEvent.objects.filter(
        table_name="auth_user_groups", after__user_id=user.pk, after__group_id=group.pk
    ).get()
    left = AuditEvent.objects.get(table_name="auth_user_groups", action="delete", row_id=membership.row_id)
    assert (left.before["user_id"], left.before["group_id"]) == (user.pk, group.pk)


def test_a_change_made_in_the_admin_names_the_administrator(staff_client, staff_user):
    user = UserFactory(username="carol")
    response = staff_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {
            "password1": "another long passphrase",
            "password2": "another long passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content
    *_, event = events("auth_user", user.pk)
    assert (event.actor_username, event.after["password_changed"]) == (staff_user.username, True)
    user.refresh_from_db()
    no_hash_anywhere(events("auth_user", user.pk), user.password)


def test_a_users_history_in_the_admin_is_their_audit_trail(staff_client):
    user = UserFactory(username="carol")
    response = staff_client.get(reverse("admin:auth_user_history", args=[user.pk]))
    assert response.status_code == 302
    assert response["Location"].endswith(f"?table_name=auth_user&row_id={user.pk}")


@postgres_only
def test_raw_sql_making_a_superuser_is_recorded_with_the_login(db):
    user = UserFactory(username="carol")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE auth_user SET is_superuser = true WHERE id = %s", [user.pk])
    *_, event = events("auth_user", user.pk)
    assert (event.before["is_superuser"], event.after["is_superuser"]) == (False, True)
    assert (event.actor_id, event.db_session_user) == (None, "postgres")


def test_fund_model_is_still_audited_alongside(db):
    # A positive control for the helpers above: the ledger's own tables keep their events.
    fund = FundFactory()
    assert [event.action for event in events(Fund._meta.db_table, fund.pk)] == ["insert"]
