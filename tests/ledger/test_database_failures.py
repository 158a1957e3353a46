"""When the database refuses a write (read-only, full) or cannot be reached: a clear page, nothing kept."""

from unittest import mock

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import IntegrityError, InternalError, OperationalError

from grants.models import Allocation, FundingCategory, LedgerEntry, Organisation, ThematicArea

NOT_SAVED = "nothing of it was saved, not even in part"


def allocation_form(seed_fund):
    return {
        "line_number": 17,
        "organisation": Organisation.objects.get(name="Aaina Hub").pk,
        "service": "Helpline extension",
        "thematic_area": ThematicArea.objects.get(name="Domestic Abuse").pk,
        "funding_category": FundingCategory.objects.get(name="DA PCC non-commissioned").pk,
        "amount": "1000.00",
        "effective_date": "2020-08-19",
        "memo": "Award letter ECF-17",
    }


def test_a_disk_full_halfway_through_a_write_keeps_nothing_and_says_so(staff_client, seed_fund):
    lines, entries = Allocation.objects.count(), LedgerEntry.objects.count()
    disk_full = OperationalError('could not extend file "base/16384/16601": No space left on device')
    # The allocation row is written first; the database then refuses its award entry.
    with mock.patch.object(LedgerEntry.objects, "bulk_create", side_effect=disk_full):
        response = staff_client.post("/funds/moj-ecf-2020/allocations/add/", allocation_form(seed_fund))

    assert response.status_code == 503
    assert NOT_SAVED in " ".join(response.content.decode().split())
    assert (Allocation.objects.count(), LedgerEntry.objects.count()) == (lines, entries)


def test_a_read_only_database_refusing_a_write_gets_the_same_clear_page(staff_client, seed_fund):
    read_only = InternalError("cannot execute INSERT in a read-only transaction")
    with mock.patch.object(LedgerEntry.objects, "bulk_create", side_effect=read_only):
        response = staff_client.post("/funds/moj-ecf-2020/allocations/add/", allocation_form(seed_fund))
    assert response.status_code == 503
    assert NOT_SAVED in " ".join(response.content.decode().split())


def test_pages_can_still_be_read_when_the_idle_session_cannot_be_extended(client, officer, seed_fund):
    client.force_login(officer)
    # The database refuses the session row's UPDATE, as a read-only one does.
    with mock.patch.object(Session, "save", side_effect=InternalError("read-only transaction")):
        response = client.get("/funds/moj-ecf-2020/")
    assert response.status_code == 200


def test_logging_in_when_the_session_cannot_be_saved_fails_clearly(client, officer):
    with mock.patch.object(Session, "save", side_effect=InternalError("read-only transaction")):
        response = client.post(
            "/accounts/login/", {"username": "officer", "password": "correct horse battery staple"}
        )
    assert response.status_code == 503
    assert NOT_SAVED in " ".join(response.content.decode().split())


def test_a_constraint_violation_is_a_bug_and_not_passed_off_as_an_unavailable_database(
    staff_client, seed_fund
):
    staff_client.raise_request_exception = False
    clash = IntegrityError("duplicate key value violates unique constraint")
    with mock.patch.object(LedgerEntry.objects, "bulk_create", side_effect=clash):
        response = staff_client.post("/funds/moj-ecf-2020/allocations/add/", allocation_form(seed_fund))
    assert response.status_code == 500
    assert NOT_SAVED not in " ".join(response.content.decode().split())


def test_a_database_lost_before_the_view_runs_gets_the_same_page_not_a_bare_500(client, officer):
    # PostgreSQL restarting: loading the session, before any view, fails.
    client.force_login(officer)
    client.raise_request_exception = False
    with mock.patch.object(
        SessionStore, "load", side_effect=OperationalError("server closed the connection")
    ):
        response = client.get("/funds/")
    assert response.status_code == 503
    assert "The database is not available" in response.content.decode()
