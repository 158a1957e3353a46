"""The history pages filter by what changed, who changed it and when, page through 50 changes at a
time keeping the filters, and show what changed, not every column of every row."""

import datetime
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.context import context as audit_context
from audit.models import AuditEvent
from grants.models import Fund
from tests.audit.test_history_pages import add_line, rows
from tests.factories import FundFactory, UserFactory, submit_return


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


def notes_changed(fund, user, times: int, start: int = 1) -> None:
    with transaction.atomic(), audit_context(user=user, reason="Notes typed"):
        for number in range(start, start + times):
            Fund.objects.filter(pk=fund.pk).update(notes=f"note {number}")


def history(client, fund, **filters):
    return client.get(reverse("grants:fund_history", args=[fund.code]), filters)


def test_history_filters_by_what_changed(viewer_client, alice):
    fund = FundFactory(code="hist")
    add_line(fund, alice, line_number=1)
    add_line(fund, alice, line_number=2)

    response = history(viewer_client, fund, table="grants_ledgerentry")

    assert [row.what for row in rows(response)] == ["Ledger entry", "Ledger entry"]
    assert '<option value="grants_ledgerentry" selected>Ledger entry</option>' in response.content.decode()


def test_history_filters_by_who_changed_it(viewer_client, alice, bob):
    fund = FundFactory(code="hist")
    add_line(fund, alice)
    notes_changed(fund, bob, 2)

    response = history(viewer_client, fund, user=bob.pk)

    assert [(row.who, [change.after for change in row.changes]) for row in rows(response)] == [
        ("bob", ["note 2"]),
        ("bob", ["note 1"]),
    ]


def test_history_filters_by_date_range(viewer_client, alice):
    fund = FundFactory(code="hist")
    notes_changed(fund, alice, 3)
    today = timezone.localdate()
    tomorrow, yesterday = today + datetime.timedelta(days=1), today - datetime.timedelta(days=1)

    assert len(rows(history(viewer_client, fund, since=today, until=today))) == 4
    assert rows(history(viewer_client, fund, since=tomorrow)) == []
    assert rows(history(viewer_client, fund, until=yesterday)) == []
    assert "No change matches these filters." in history(viewer_client, fund, since=tomorrow).content.decode()


def test_a_date_that_is_not_one_is_said_beside_its_field(viewer_client, alice):
    fund = FundFactory(code="hist")

    response = history(viewer_client, fund, since="31/02/2026")

    assert response.status_code == 200
    assert '<p class="error">Enter a valid date.</p>' in response.content.decode()
    assert rows(response) == []


def test_pages_of_a_filtered_history_keep_the_filters(viewer_client, alice, bob):
    fund = FundFactory(code="hist")
    notes_changed(fund, alice, 55)
    notes_changed(fund, bob, 3, start=100)

    first = history(viewer_client, fund, user=alice.pk)
    second = history(viewer_client, fund, user=alice.pk, page=2)

    assert len(rows(first)) == 50
    assert {row.who for row in rows(first)} == {"alice"}
    assert f'href="?user={alice.pk}&amp;page=2"' in first.content.decode()
    assert "Page 1 of 2 (55 changes)." in first.content.decode()
    assert [row.who for row in rows(second)] == ["alice"] * 5


def test_an_insert_shows_what_it_set_without_uuids_versions_or_blanks(viewer_client, alice):
    fund = FundFactory(code="hist")
    add_line(fund, alice)

    response = history(viewer_client, fund, table="grants_ledgerentry")

    [entry] = rows(response)
    labels = [change.label for change in entry.changes]
    assert "Uuid" not in labels and "UUID" not in labels
    assert "Version" not in labels
    assert "Approved outside ledger" not in labels  # a flag left off
    assert all(change.after not in ("—", "(blank)") for change in entry.changes), entry.changes
    assert {"Amount", "Kind", "Allocation", "Recorded by"} <= set(labels)
    uuid_shape = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    assert not uuid_shape.search(response.content.decode())


def test_an_update_shows_only_the_fields_it_changed(viewer_client, alice):
    fund = FundFactory(code="hist")
    allocation = add_line(fund, alice)
    with transaction.atomic(), audit_context(user=alice, reason="Renamed"):
        allocation.service = "Helpline and outreach"
        allocation.save()

    response = history(viewer_client, fund, table="grants_allocation")

    update = rows(response)[0]
    assert [(c.label, c.before, c.after) for c in update.changes] == [
        ("Service", "Helpline", "Helpline and outreach")
    ]


# Session and user (2), permissions (2), the fund, the chosen user checked, the count of the page's
# events and the page of events, the rows they name (funds, lines, users, organisations, thematic
# areas, funding categories: one query each), the filter form's list of users, and the session saved
# (3); on PostgreSQL, the audit context named and cleared (2). 18 for 10 events or 200.
HISTORY_QUERIES = 18


@pytest.mark.parametrize("lines", [5, 100])
def test_a_filtered_history_page_takes_a_fixed_number_of_queries(viewer_client, alice, lines):
    fund = FundFactory(code="hist")
    for number in range(1, lines + 1):
        add_line(fund, alice, line_number=number)
    # Each line is two events of the fund's: the line and its award.
    assert AuditEvent.objects.filter(fund_id=fund.pk, actor_id=alice.pk).count() == 2 * lines

    with CaptureQueriesContext(connection) as queries:
        response = history(viewer_client, fund, user=alice.pk)

    assert len(rows(response)) == min(2 * lines, 50)
    assert len(queries) == HISTORY_QUERIES + (2 if connection.vendor == "postgresql" else 0), "\n".join(
        query["sql"][:100] for query in queries
    )


@pytest.mark.parametrize("filters", [{"until": "9999-12-31"}, {"since": "0001-01-01", "until": "9999-12-31"}])
def test_the_last_day_there_is_is_a_date_to_filter_to(viewer_client, alice, filters):
    """'To 31 December 9999' means up to the day after it, which no date can hold: it was a 500
    (OverflowError); it is every change up to the end of time."""
    fund = FundFactory(code="hist")
    notes_changed(fund, alice, 2)

    response = history(viewer_client, fund, **filters)

    assert response.status_code == 200
    assert len(rows(response)) == 3


def test_a_submitted_return_s_history_says_which_version_it_is(viewer_client, alice):
    """A return's version (1, 2, ... each time it is resubmitted) is what the reader looks for; only
    the edit counter of a row people edit in forms (`Versioned.version`) says nothing."""
    fund = FundFactory(code="hist")
    submit_return(fund, alice)

    response = history(viewer_client, fund, table="grants_returnsubmission")

    [submitted] = rows(response)
    assert ("Version", "1") in [(change.label, change.after) for change in submitted.changes]
    [fund_added] = [row for row in rows(history(viewer_client, fund, table="grants_fund"))]
    assert "Version" not in [change.label for change in fund_added.changes]
