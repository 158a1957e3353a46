"""Who may do what (the role x action matrix), and two people changing one line at once."""

import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from grants import roles, services
from grants.models import Allocation, LedgerEntry
from tests.factories import (
    AllocationFactory,
    FundFactory,
    OrganisationFactory,
    UserFactory,
    submit_return,
    user_in_role,
)

ROLE_NAMES = [None, roles.VIEWER, roles.FINANCE_OFFICER, roles.APPROVER]


@pytest.fixture
def scene(db):
    """A fund with a line, a pending payment recorded by a third person, and a submitted fund."""
    clerk = user_in_role(roles.FINANCE_OFFICER, "clerk")
    fund = FundFactory(code="open-fund", control_total=Decimal("5000.00"))
    # Line 1: the two lines below take 2 and 3, whatever the factory's sequence has reached.
    line = AllocationFactory(fund=fund, line_number=1, amount=Decimal("1000.00"))
    payment = services.payment_record(
        allocation=line,
        amount=Decimal("10.00"),
        effective_date=fund.spend_start,
        reference="B1",
        acting_user=clerk,
    )
    second = services.payment_record(
        allocation=line,
        amount=Decimal("20.00"),
        effective_date=fund.spend_start,
        reference="B3",
        acting_user=clerk,
    )
    # A change of provider proposed by the clerk on each of two lines with approved money.
    changes = []
    for number in (2, 3):
        other = AllocationFactory(fund=fund, line_number=number)
        other.organisation = OrganisationFactory(name=f"New provider {number}")
        services.allocation_update(allocation=other, acting_user=clerk, reason="Provider renamed")
        changes.append(other.changes.get().pk)
    locked = FundFactory(code="locked-fund")
    AllocationFactory(fund=locked)
    submit_return(locked, user_in_role(roles.APPROVER, "boss"))
    return {
        "fund": fund.code,
        "line": line.pk,
        "entry": payment.pk,
        "entry2": second.pk,
        "change": changes[0],
        "change2": changes[1],
        "org": line.organisation_id,
        "new_org": OrganisationFactory(name="Another provider").pk,
        "area": line.thematic_area_id,
        "category": line.funding_category_id,
    }


# (action, method, url template, POST data or None, the permission it needs)
ACTIONS = [
    ("dashboard", "get", "/", None, "view"),
    ("fund list", "get", "/funds/", None, "view"),
    ("fund page", "get", "/funds/{fund}/", None, "view"),
    ("allocations", "get", "/allocations/", None, "view"),
    ("allocation page", "get", "/allocations/{line}/", None, "view"),
    ("organisations", "get", "/organisations/", None, "view"),
    ("organisation page", "get", "/organisations/{org}/", None, "view"),
    ("MoJ return download", "get", "/funds/{fund}/moj-return.xlsx", None, "view"),
    ("submitted return download", "get", "/funds/locked-fund/submissions/1.xlsx", None, "view"),
    ("add allocation form", "get", "/funds/{fund}/allocations/add/", None, "enter"),
    (
        "change amount",
        "post",
        "/allocations/{line}/amount/",
        {"amount": "900.00", "effective_date": "2020-09-01", "memo": "m", "shown_amount": "1000.00"},
        "enter",
    ),
    ("edit line form", "get", "/allocations/{line}/edit/", None, "enter"),
    (
        "record payment",
        "post",
        "/allocations/{line}/payments/add/",
        {"amount": "5.00", "effective_date": "2020-09-01", "reference": "B2"},
        "enter",
    ),
    ("record underspend form", "get", "/allocations/{line}/underspend/add/", None, "enter"),
    ("return to funder form", "get", "/funds/{fund}/returned/add/", None, "enter"),
    ("reverse entry", "post", "/entries/{entry}/reverse/", {"memo": "wrong"}, "enter"),
    ("add organisation form", "get", "/organisations/add/", None, "enter"),
    ("approvals list", "get", "/approvals/", None, "approve"),
    ("approve entry", "post", "/entries/{entry}/approve/", {}, "approve"),
    ("reject entry", "post", "/entries/{entry2}/reject/", {"reason": "Duplicate"}, "approve"),
    ("withdraw entry", "post", "/entries/{entry2}/withdraw/", {"reason": "Mine to withdraw"}, "enter"),
    (
        "propose a change of provider",
        "post",
        "/allocations/{line}/edit/",
        {
            "organisation": "{new_org}",
            "service": "",
            "thematic_area": "{area}",
            "funding_category": "{category}",
            "notes": "",
            "version": "1",
            "reason": "Provider merged",
        },
        "enter",
    ),
    ("approve a proposed change", "post", "/line-changes/{change}/approve/", {}, "approve"),
    ("reject a proposed change", "post", "/line-changes/{change2}/reject/", {"reason": "No"}, "approve"),
    ("withdraw a proposed change", "post", "/line-changes/{change2}/withdraw/", {"reason": "x"}, "enter"),
    ("approve many at once", "post", "/approvals/", {"decision": "approve", "entry": "{entry2}"}, "approve"),
    ("submit return", "post", "/funds/{fund}/submit/", {}, "approve"),
    ("fund profile form", "get", "/funds/{fund}/profile/", None, "enter"),
    (
        "fund profile",
        "post",
        "/funds/{fund}/profile/",
        {"year_2020": "5000.00", "year_2019": "0.00", "memo": "Award letter", "version": "1"},
        "enter",
    ),
    ("reopen form", "get", "/funds/locked-fund/reopen/", None, "approve"),
    ("reopen", "post", "/funds/locked-fund/reopen/", {"reason": "MoJ query"}, "approve"),
    ("new fund form", "get", "/funds/add/", None, "enter"),
    ("edit fund form", "get", "/funds/{fund}/edit/", None, "enter"),
    ("category budgets form", "get", "/funds/{fund}/budgets/", None, "enter"),
    ("edit organisation form", "get", "/organisations/{org}/edit/", None, "enter"),
    ("accessibility statement", "get", "/accessibility/", None, "signed in"),
]
ALLOWED = {
    None: {"signed in"},
    roles.VIEWER: {"signed in", "view"},
    roles.FINANCE_OFFICER: {"signed in", "view", "enter"},
    roles.APPROVER: {"signed in", "view", "approve"},
}


@pytest.mark.parametrize("role", ROLE_NAMES, ids=["no role", "viewer", "finance officer", "approver"])
def test_role_by_action_matrix(client, scene, role):
    user = user_in_role(role, "someone") if role else UserFactory(username="someone")
    client.force_login(user)
    outcomes = {}
    for name, method, url, data, needs in ACTIONS:
        data = {key: value.format(**scene) for key, value in (data or {}).items()}
        response = getattr(client, method)(url.format(**scene), data)
        allowed = needs in ALLOWED[role]
        outcomes[name] = (response.status_code, allowed)
    wrong = {
        name: status
        for name, (status, allowed) in outcomes.items()
        if (status == 403) == allowed or status >= 500 or status == 404
    }
    assert not wrong, f"{role}: unexpected status for {wrong}"


def test_an_allowed_write_in_the_matrix_really_wrote(client, scene):
    client.force_login(user_in_role(roles.APPROVER, "approver-2"))
    client.post(f"/entries/{scene['entry']}/approve/")
    assert LedgerEntry.objects.get(pk=scene["entry"]).approved_at is not None


def test_an_approver_cannot_approve_their_own_entry_through_the_page(client, db):
    approver = user_in_role(roles.APPROVER, "approver-3")
    line = AllocationFactory(amount=Decimal("100.00"))
    own = services.payment_record(
        allocation=line,
        amount=Decimal("1.00"),
        effective_date=line.fund.spend_start,
        reference="X",
        acting_user=approver,
    )
    client.force_login(approver)
    response = client.post(f"/entries/{own.pk}/approve/", follow=True)
    assert "someone else must approve it" in response.content.decode()
    assert LedgerEntry.objects.get(pk=own.pk).approved_at is None


def test_the_groups_hold_exactly_the_listed_permissions(db):
    for name, codenames in roles.ROLES.items():
        held = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        assert held == set(codenames)


def test_the_edit_form_refuses_a_save_after_a_colleagues_and_keeps_what_was_typed(client, db):
    officer = user_in_role(roles.FINANCE_OFFICER, "first")
    line = AllocationFactory(amount=Decimal("100.00"), service="Helpline")
    client.force_login(officer)
    form = {
        "organisation": line.organisation_id,
        "service": "Helpline (evenings)",
        "thematic_area": line.thematic_area_id,
        "funding_category": line.funding_category_id,
        "notes": "typed by the second person",
        "version": line.version,
    }
    colleague = Allocation.objects.get(pk=line.pk)
    colleague.notes = "saved first"
    services.allocation_update(allocation=colleague, acting_user=None, expected_version=line.version)
    response = client.post(f"/allocations/{line.pk}/edit/", form)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved a change to line" in page
    assert "typed by the second person" in page and "Helpline (evenings)" in page
    line.refresh_from_db()
    assert (line.notes, line.service, line.version) == ("saved first", "Helpline", 2)


# Two real connections (PostgreSQL) --------------------------------------------------------------


def in_thread(work, started: threading.Event | None = None):
    """Run `work()` on its own database connection in another thread; return (thread, result box)."""
    box = {}

    def run():
        try:
            box["result"] = work()
        except Exception as error:  # noqa: BLE001  (the test inspects it)
            box["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def hold_then(work, holding: threading.Event, release: threading.Event):
    """Do `work()` inside a transaction and keep it open (its locks held) until `release` is set."""

    def run():
        with transaction.atomic():
            result = work()
            holding.set()
            release.wait(10)
        return result

    return run


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_one_line_at_once_the_second_is_refused(postgres_only):
    line = AllocationFactory(amount=Decimal("100.00"))
    opened_at = line.version

    def save(notes):
        def work():
            mine = Allocation.objects.get(pk=line.pk)
            mine.notes = notes
            return services.allocation_update(allocation=mine, acting_user=None, expected_version=opened_at)

        return work

    holding, release = threading.Event(), threading.Event()
    first, first_box = in_thread(hold_then(save("first person's note"), holding, release))
    assert holding.wait(10)
    second, second_box = in_thread(save("second person's note"))
    second.join(1)
    assert second.is_alive(), "the second save should wait for the first one's lock"
    release.set()
    first.join(10)
    second.join(10)
    assert "error" not in first_box
    assert isinstance(second_box.get("error"), ValidationError)
    assert "since you opened it" in str(second_box["error"])
    line.refresh_from_db()
    assert (line.notes, line.version) == ("first person's note", opened_at + 1)


@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_cannot_both_take_the_last_of_the_award(postgres_only):
    line = AllocationFactory(amount=Decimal("1000.00"))

    def pay(reference):
        return lambda: services.payment_record(
            allocation=line,
            amount=Decimal("600.00"),
            effective_date=line.fund.spend_start,
            reference=reference,
            acting_user=None,
        )

    holding, release = threading.Event(), threading.Event()
    first, first_box = in_thread(hold_then(pay("A"), holding, release))
    assert holding.wait(10)
    second, second_box = in_thread(pay("B"))
    second.join(1)
    assert second.is_alive(), "the second payment should wait for the first one's lock"
    release.set()
    first.join(10)
    second.join(10)
    assert "error" not in first_box
    assert "at most £400.00 can be paid" in str(second_box.get("error"))
    assert list(LedgerEntry.objects.filter(kind="payment").values_list("reference", flat=True)) == ["A"]


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs two real concurrent connections with row locks (PostgreSQL)")
