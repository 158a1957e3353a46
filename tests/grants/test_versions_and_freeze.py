"""Issue 14: a submitted return freezes everything it reports, and no form loses a colleague's update.

The attacks are made as people would make them: two finance officers, each with their own logged-in
session (two test clients), opening the same form; and an administrator trying every way the admin
offers to change a fund whose return is submitted.
"""

import datetime
import hashlib
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils.html import escape
from djmoney.money import Money
from pytest_django.asserts import assertContains

from audit.models import AuditEvent
from grants import roles, services
from grants.models import (
    Allocation,
    CategoryBudget,
    Fund,
    Funder,
    FundingCategory,
    Organisation,
    ReturnSubmission,
    ThematicArea,
)
from tests.factories import (
    AllocationFactory,
    CategoryBudgetFactory,
    FunderFactory,
    FundFactory,
    FundingCategoryFactory,
    OrganisationFactory,
    StaffUserFactory,
    approve_pending,
    submit_return,
    user_in_role,
)
from tests.grants.test_admin import change_url, changeform_data, changelist_url, delete_url
from tests.grants.test_roles_and_concurrency import hold_then, in_thread


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def staff_officer(username: str):
    """A finance officer who may use the admin (the role's permissions, nothing more)."""
    user = user_in_role(roles.FINANCE_OFFICER, username)
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def two_sessions(client, django_user_model, db):
    """Two finance officers, each signed in in their own browser session."""
    from django.test import Client

    first, second = Client(), Client()
    first.force_login(staff_officer("ann"))
    second.force_login(staff_officer("bob"))
    return first, second


def inline(response, model):
    return next(
        formset.formset
        for formset in response.context["inline_admin_formsets"]
        if formset.formset.model is model
    )


def refused_form(response):
    return response.context["adminform"].form


# ---- The version helper ---------------------------------------------------------------------------


def test_check_and_bump_version_raises_the_version_once_and_refuses_the_stale_one(db):
    fund = FundFactory()
    assert services.check_and_bump_version(Fund, fund.pk, 1, name="Renamed once") == 2

    with pytest.raises(services.ValidationError) as refused:
        services.check_and_bump_version(Fund, fund.pk, 1, name="Renamed from a stale form")

    assert refused.value.messages == [services.changed_since_opened_message(Fund.objects.get(pk=fund.pk))]
    assert Fund.objects.values_list("name", "version").get(pk=fund.pk) == ("Renamed once", 2)


def test_a_version_raised_by_raw_sql_meanwhile_refuses_the_service_save(db):
    # Whoever changes the row, even a client writing SQL, moves the version the forms compare with.
    organisation = OrganisationFactory(name="Birmingham Crisis Centre")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE grants_organisation SET version = version + 1, notes = 'by SQL' WHERE id = %s",
            [organisation.pk],
        )
    organisation.name = "BCC"

    with pytest.raises(services.ValidationError, match="Someone else saved a change"):
        services.organisation_update(organisation=organisation, acting_user=None, expected_version=1)

    assert Organisation.objects.values_list("name", "notes", "version").get(pk=organisation.pk) == (
        "Birmingham Crisis Centre",
        "by SQL",
        2,
    )


def test_every_edited_model_carries_a_version_starting_at_one(db):
    line = AllocationFactory()
    budget = CategoryBudgetFactory(fund=line.fund)
    rows = [
        line,
        line.fund,
        line.fund.funder,
        line.organisation,
        line.thematic_area,
        line.funding_category,
        budget,
    ]
    assert [type(row).objects.get(pk=row.pk).version for row in rows] == [1] * 7


# ---- The freeze, in the services --------------------------------------------------------------------


@pytest.fixture
def submitted(db):
    """A fund with an approved line, a category budget, and its return submitted (so it is locked)."""
    line = AllocationFactory(amount=Decimal("1265.00"))
    approve_pending(allocation=line)
    budget = CategoryBudgetFactory(
        fund=line.fund, funding_category=line.funding_category, amount=gbp("5000.00")
    )
    submission = submit_return(line.fund, user_in_role(roles.APPROVER, "sam"))
    return line, budget, submission


FACTS = {
    "name": "Another name",
    "code": "another-code",
    "spend_start": datetime.date(2019, 1, 1),
    "spend_end": datetime.date(2030, 1, 1),
    "control_total": gbp("999.00"),
}


@pytest.mark.parametrize("fact", [*FACTS, "funder"])
def test_a_submitted_funds_facts_are_refused_with_the_submissions_message(submitted, fact):
    line, _, submission = submitted
    fund = Fund.objects.get(pk=line.fund_id)
    before = Fund.objects.filter(pk=fund.pk).values().get()
    value = FunderFactory(code="other", name="Other funder") if fact == "funder" else FACTS[fact]
    setattr(fund, fact, value)

    with pytest.raises(services.ValidationError) as refused:
        services.fund_save(fund=fund, acting_user=None, memo="Revised letter", expected_version=1)

    assert refused.value.messages == [services.locked_message(submission)]
    assert Fund.objects.filter(pk=fund.pk).values().get() == before


def test_a_submitted_funds_notes_can_still_be_written(submitted):
    line, _, _ = submitted
    fund = Fund.objects.get(pk=line.fund_id)
    fund.notes = "MoJ acknowledged receipt"
    services.fund_save(fund=fund, acting_user=None, expected_version=1)
    assert Fund.objects.values_list("notes", "version").get(pk=fund.pk) == ("MoJ acknowledged receipt", 2)


def test_a_submitted_funds_category_budgets_cannot_be_added_changed_or_deleted(submitted):
    line, budget, submission = submitted
    message = [services.locked_message(submission)]
    other = FundingCategoryFactory(code="other-category", name="Other category")
    attempts = [
        lambda: services.category_budget_save(
            budget=CategoryBudget(fund=line.fund, funding_category=other, amount=gbp("1.00")),
            acting_user=None,
        ),
        lambda: services.category_budget_save(
            budget=CategoryBudget(
                pk=budget.pk, fund=line.fund, funding_category=budget.funding_category, amount=gbp("1.00")
            ),
            acting_user=None,
            expected_version=1,
        ),
        lambda: services.category_budget_delete(budget=budget, acting_user=None, expected_version=1),
    ]
    for attempt in attempts:
        with pytest.raises(services.ValidationError) as refused:
            attempt()
        assert refused.value.messages == message
    assert list(CategoryBudget.objects.values_list("pk", "amount", "version")) == [
        (budget.pk, Decimal("5000.00"), 1)
    ]


def test_a_submitted_fund_cannot_be_deleted(submitted):
    line, _, submission = submitted
    with pytest.raises(services.ValidationError) as refused:
        services.fund_delete(fund=line.fund, acting_user=None)
    assert refused.value.messages == [services.locked_message(submission)]
    assert Fund.objects.filter(pk=line.fund_id).exists()


def test_an_empty_open_fund_is_deleted_with_its_budgets_and_one_with_lines_is_refused(db):
    empty = FundFactory(code="empty")
    CategoryBudgetFactory(fund=empty)
    used = AllocationFactory().fund

    services.fund_delete(fund=empty, acting_user=None)
    with pytest.raises(services.ValidationError, match="cannot be deleted: it still has allocations"):
        services.fund_delete(fund=used, acting_user=None)

    assert list(Fund.objects.values_list("pk", flat=True)) == [used.pk]
    assert not CategoryBudget.objects.filter(fund_id=empty.pk).exists()


# ---- The freeze, in the admin -------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    client.force_login(StaffUserFactory(username="head-of-finance"))
    return client


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Renamed"), ("code", "renamed"), ("spend_end", "2031-03-31"), ("control_total_0", "999.00")],
)
def test_the_admin_refuses_a_submitted_funds_facts_naming_the_submission(
    admin_client, submitted, field, value
):
    line, _, submission = submitted
    data = changeform_data(admin_client.get(change_url(line.fund)))
    data.update({field: value, "control_total_memo": "Revised letter"})
    before = Fund.objects.filter(pk=line.fund_id).values().get()

    response = admin_client.post(change_url(line.fund), data)

    assert response.status_code == 200
    assert refused_form(response).errors == {field.removesuffix("_0"): [services.locked_message(submission)]}
    assert Fund.objects.filter(pk=line.fund_id).values().get() == before


def test_the_admin_refuses_adding_changing_or_deleting_a_submitted_funds_budgets(admin_client, submitted):
    line, budget, submission = submitted
    other = FundingCategoryFactory(code="other-category", name="Other category")
    url = change_url(line.fund)
    opened = changeform_data(admin_client.get(url))
    changed = {**opened, "category_budgets-0-amount_0": "9000.00"}
    added = {
        **opened,
        "category_budgets-TOTAL_FORMS": "2",
        "category_budgets-1-funding_category": str(other.pk),
        "category_budgets-1-amount_0": "10.00",
        "category_budgets-1-amount_1": "GBP",
        "category_budgets-1-fund": str(line.fund_id),
    }
    deleted = {**opened, "category_budgets-0-DELETE": "on"}

    responses = [admin_client.post(url, data) for data in (changed, added, deleted)]

    locked = services.locked_message(submission)
    assert [response.status_code for response in responses] == [200, 200, 200]
    assert inline(responses[0], CategoryBudget).errors[0] == {"__all__": [locked]}
    assert inline(responses[1], CategoryBudget).errors[1] == {"__all__": [locked]}
    assert inline(responses[2], CategoryBudget).non_form_errors() == [locked]
    assert list(CategoryBudget.objects.values_list("pk", "amount", "version")) == [
        (budget.pk, Decimal("5000.00"), 1)
    ]


def test_the_admin_refuses_a_submitted_funds_inline_lines(admin_client, submitted):
    line, _, submission = submitted
    data = changeform_data(admin_client.get(change_url(line.fund)))
    data.update({"allocations-0-notes": "x", "allocations-0-service": "Moved", "allocations-0-memo": "why"})

    response = admin_client.post(change_url(line.fund), data)

    assert response.status_code == 200
    assert services.locked_message(submission) in inline(response, Allocation).errors[0]["__all__"]
    assert Allocation.objects.values_list("service", "version").get(pk=line.pk) == (line.service, 1)


def test_the_admin_delete_page_refuses_a_submitted_fund_and_says_why(admin_client, submitted):
    line, _, submission = submitted
    for response in [
        admin_client.get(delete_url(line.fund), follow=True),
        admin_client.post(delete_url(line.fund), {"post": "yes"}, follow=True),
    ]:
        assertContains(response, escape(f"Nothing was deleted. {services.locked_message(submission)}"))
    assert Fund.objects.filter(pk=line.fund_id).exists()


def test_the_admin_bulk_delete_is_all_or_nothing_and_names_the_submission(admin_client, submitted):
    line, _, submission = submitted
    empty = FundFactory(code="empty-fund")
    selection = {"action": "delete_selected", "_selected_action": [empty.pk, line.fund_id], "post": "yes"}

    response = admin_client.post(changelist_url("fund"), selection, follow=True)

    page = response.content.decode()
    assert escape(f"Nothing was deleted. {services.locked_message(submission)}") in page
    assert "Successfully deleted" not in page
    assert set(Fund.objects.values_list("pk", flat=True)) == {empty.pk, line.fund_id}


def test_the_admin_bulk_delete_removes_open_empty_funds_through_the_service(admin_client, db):
    funds = [FundFactory(code=f"empty-{n}") for n in range(2)]
    selection = {"action": "delete_selected", "_selected_action": [f.pk for f in funds], "post": "yes"}

    response = admin_client.post(changelist_url("fund"), selection, follow=True)

    assertContains(response, "Successfully deleted 2 funds.")
    assert not Fund.objects.exists()
    assert AuditEvent.objects.filter(table_name="grants_fund", action="delete").count() == 2


def test_an_organisation_on_a_submitted_fund_stays_editable_and_the_fund_page_says_it_was_renamed(
    client, submitted
):
    line, _, submission = submitted
    workbook = bytes(ReturnSubmission.objects.get(pk=submission.pk).workbook)
    organisation = Organisation.objects.get(pk=line.organisation_id)
    was = organisation.name
    organisation.name = "Renamed Provider Ltd"
    services.organisation_update(organisation=organisation, acting_user=None, expected_version=1)
    client.force_login(user_in_role(roles.VIEWER, "vera"))

    page = client.get(f"/funds/{line.fund.code}/").content.decode()

    assert f"Renamed Provider Ltd (was {was} in the submitted return)" in page
    stored = ReturnSubmission.objects.get(pk=submission.pk)
    assert bytes(stored.workbook) == workbook
    assert stored.sha256 == hashlib.sha256(workbook).hexdigest()


def test_the_fund_page_lists_no_renames_when_names_are_as_submitted(client, submitted):
    line, _, _ = submitted
    client.force_login(user_in_role(roles.VIEWER, "vera"))
    page = client.get(f"/funds/{line.fund.code}/").content.decode()
    assert "in the submitted return)" not in page
    assert "Locked: version 1 of the MoJ return" in page


# ---- No lost updates: two sessions on each form -----------------------------------------------------


def open_both(two_sessions, url):
    """Both people open the form; each gets its own copy of the page's POST data."""
    first, second = two_sessions
    pages = [first.get(url), second.get(url)]
    for page in pages:
        assertContains(page, 'name="opened_version"' if "/admin/" in url else 'name="version"')
    return pages


def test_two_officers_on_the_admin_fund_form_the_second_stale_save_is_refused(two_sessions, db):
    fund = FundFactory(name="Covid fund")
    first, second = two_sessions
    mine, theirs = (changeform_data(page) for page in open_both(two_sessions, change_url(fund)))

    assert first.post(change_url(fund), {**mine, "name": "Covid fund (revised)"}).status_code == 302
    response = second.post(change_url(fund), {**theirs, "notes": "typed by bob"})

    assert response.status_code == 200
    assert refused_form(response).non_field_errors() == [
        services.changed_since_opened_message(Fund.objects.get(pk=fund.pk))
    ]
    assertContains(response, "typed by bob")
    assert Fund.objects.values_list("name", "notes", "version").get(pk=fund.pk) == (
        "Covid fund (revised)",
        "",
        2,
    )


def test_two_officers_on_the_admin_budget_inline_the_second_stale_save_is_refused(two_sessions, db):
    budget = CategoryBudgetFactory(amount=gbp("5000.00"))
    first, second = two_sessions
    url = change_url(budget.fund)
    mine, theirs = (changeform_data(page) for page in open_both(two_sessions, url))

    assert first.post(url, {**mine, "category_budgets-0-amount_0": "6000.00"}).status_code == 302
    response = second.post(url, {**theirs, "category_budgets-0-amount_0": "4321.00"})

    assert response.status_code == 200
    assert inline(response, CategoryBudget).errors[0] == {
        "__all__": [services.changed_since_opened_message(CategoryBudget.objects.get(pk=budget.pk))]
    }
    assertContains(response, "4321.00")
    assert CategoryBudget.objects.values_list("amount", "version").get(pk=budget.pk) == (
        Decimal("6000.00"),
        2,
    )


@pytest.fixture
def two_administrators(db):
    """Two administrators, each in their own session (finance officers may not delete budgets)."""
    from django.test import Client

    first, second = Client(), Client()
    first.force_login(StaffUserFactory(username="ann"))
    second.force_login(StaffUserFactory(username="bob"))
    return first, second


def test_a_stale_budget_deletion_in_the_admin_is_refused_and_the_colleagues_change_survives(
    two_administrators,
):
    budget = CategoryBudgetFactory(amount=gbp("5000.00"))
    first, second = two_sessions = two_administrators
    url = change_url(budget.fund)
    mine, theirs = (changeform_data(page) for page in open_both(two_sessions, url))

    assert first.post(url, {**mine, "category_budgets-0-amount_0": "6000.00"}).status_code == 302
    response = second.post(url, {**theirs, "category_budgets-0-DELETE": "on"})

    assert response.status_code == 200
    assert inline(response, CategoryBudget).non_form_errors() == [
        services.changed_since_opened_message(CategoryBudget.objects.get(pk=budget.pk))
    ]
    assert CategoryBudget.objects.values_list("amount", "version").get(pk=budget.pk) == (
        Decimal("6000.00"),
        2,
    )


def test_an_unchanged_budget_deletion_goes_through_the_service(two_administrators):
    budget = CategoryBudgetFactory(amount=gbp("5000.00"))
    first, _ = two_administrators
    data = changeform_data(first.get(change_url(budget.fund)))
    assert first.post(change_url(budget.fund), {**data, "category_budgets-0-DELETE": "on"}).status_code == 302
    assert not CategoryBudget.objects.exists()
    assert AuditEvent.objects.filter(
        table_name="grants_categorybudget", action="delete"
    ).get().actor_username == ("ann")


def test_issue_14_attack_4_a_stale_admin_line_form_does_not_revert_a_web_correction(two_sessions, db):
    """Ann opens the line in the admin; Bob corrects its service through the web form; Ann saves the
    stale admin form with only a note changed. Bob's correction must survive. (The line has no
    approved money yet, so the correction takes effect at once rather than awaiting approval.)"""
    line = AllocationFactory(amount=Decimal("100.00"), service="Helpline", approved=False)
    first, second = two_sessions
    admin_page = first.get(change_url(line))
    assertContains(admin_page, 'name="opened_version"')
    stale = changeform_data(admin_page)
    web = second.get(f"/allocations/{line.pk}/edit/").context["form"].initial
    corrected = {
        "organisation": line.organisation_id,
        "service": "Helpline (evenings)",
        "thematic_area": line.thematic_area_id,
        "funding_category": line.funding_category_id,
        "notes": "",
        "version": web["version"],
    }
    assert second.post(f"/allocations/{line.pk}/edit/", corrected).status_code == 302

    response = first.post(change_url(line), {**stale, "notes": "only a note, typed by ann"})

    assert response.status_code == 200
    assert refused_form(response).non_field_errors() == [
        services.changed_since_opened_message(Allocation.objects.get(pk=line.pk))
    ]
    assertContains(response, "only a note, typed by ann")
    assert Allocation.objects.values_list("service", "notes", "version").get(pk=line.pk) == (
        "Helpline (evenings)",
        "",
        2,
    )


def test_a_stale_inline_line_on_the_fund_form_does_not_revert_a_web_correction(two_sessions, db):
    line = AllocationFactory(amount=Decimal("100.00"), service="Helpline", approved=False)
    first, second = two_sessions
    stale = changeform_data(first.get(change_url(line.fund)))
    colleague = Allocation.objects.get(pk=line.pk)
    colleague.service = "Helpline (evenings)"
    # Bob's correction, as the web form makes it.
    services.allocation_update(
        allocation=colleague, acting_user=user_in_role(roles.FINANCE_OFFICER, "bob"), expected_version=1
    )

    response = first.post(change_url(line.fund), {**stale, "allocations-0-service": "Helpline (days)"})

    assert response.status_code == 200
    assert inline(response, Allocation).errors[0] == {
        "__all__": [services.changed_since_opened_message(Allocation.objects.get(pk=line.pk))]
    }
    assertContains(response, "Helpline (days)")
    assert Allocation.objects.values_list("service", "version").get(pk=line.pk) == ("Helpline (evenings)", 2)


def test_the_admin_line_form_passes_the_version_it_was_opened_at(two_sessions, db):
    # The form's check and the service's: even when the form's own check is passed (the colleague's
    # save lands between them), allocation_update() is given the opened version and refuses.
    line = AllocationFactory(amount=Decimal("100.00"), service="Helpline", approved=False)
    from grants.admin import AllocationForm

    form = AllocationForm(
        instance=Allocation.objects.get(pk=line.pk),
        data={
            "fund": line.fund_id,
            "line_number": line.line_number,
            "organisation": line.organisation_id,
            "service": "Helpline (days)",
            "thematic_area": line.thematic_area_id,
            "funding_category": line.funding_category_id,
            "amount": "100.00",
            "initial-amount": "100.00",
            "effective_date": "2020-09-01",
            "opened_version": "1",
        },
    )
    assert form.is_valid(), form.errors
    colleague = Allocation.objects.get(pk=line.pk)
    colleague.notes = "saved in between"
    services.allocation_update(allocation=colleague, acting_user=None, expected_version=1)

    with pytest.raises(services.ValidationError, match="Someone else saved a change to line"):
        form.save_through_services(None)

    assert Allocation.objects.values_list("service", "notes").get(pk=line.pk) == (
        "Helpline",
        "saved in between",
    )


@pytest.mark.parametrize(
    ("model", "make", "field", "first_value", "second_value"),
    [
        (Organisation, lambda: OrganisationFactory(name="Crisis Centre"), "name", "Crisis Centre Ltd", "CC"),
        (Funder, lambda: FunderFactory(), "short_name", "MoJ-1", "MoJ-2"),
    ],
)
def test_two_officers_on_an_admin_change_form_the_second_stale_save_is_refused(
    two_sessions, db, model, make, field, first_value, second_value
):
    row = make()
    first, second = two_sessions
    mine, theirs = (changeform_data(page) for page in open_both(two_sessions, change_url(row)))
    before = getattr(model.objects.get(pk=row.pk), field)

    assert first.post(change_url(row), {**mine, field: first_value}).status_code == 302
    response = second.post(change_url(row), {**theirs, field: second_value})

    assert before != first_value
    assert response.status_code == 200
    assert refused_form(response).non_field_errors() == [
        services.changed_since_opened_message(model.objects.get(pk=row.pk))
    ]
    assertContains(response, second_value)
    assert model.objects.values_list(field, "version").get(pk=row.pk) == (first_value, 2)


@pytest.mark.parametrize("model", [ThematicArea, FundingCategory])
def test_two_administrators_on_a_reference_data_form_the_second_stale_save_is_refused(db, model):
    from django.test import Client

    row = model.objects.create(code="sv", name="Sexual Violence")
    first, second = Client(), Client()
    first.force_login(StaffUserFactory(username="admin-1"))
    second.force_login(StaffUserFactory(username="admin-2"))
    mine, theirs = (changeform_data(page) for page in open_both((first, second), change_url(row)))

    assert first.post(change_url(row), {**mine, "sort_order": "3"}).status_code == 302
    response = second.post(change_url(row), {**theirs, "name": "Sexual Violence (all ages)"})

    assert response.status_code == 200
    assertContains(response, "Sexual Violence (all ages)")
    assert refused_form(response).non_field_errors() == [
        services.changed_since_opened_message(model.objects.get(pk=row.pk))
    ]
    assert model.objects.values_list("name", "sort_order", "version").get(pk=row.pk) == (
        "Sexual Violence",
        3,
        2,
    )


def test_two_officers_on_the_web_edit_form_the_second_stale_save_is_refused(client, db):
    from django.test import Client

    line = AllocationFactory(amount=Decimal("100.00"), service="Helpline", approved=False)
    first, second = Client(), Client()
    first.force_login(user_in_role(roles.FINANCE_OFFICER, "ann"))
    second.force_login(user_in_role(roles.FINANCE_OFFICER, "bob"))
    url = f"/allocations/{line.pk}/edit/"
    opened = [session.get(url).context["form"].initial["version"] for session in (first, second)]
    form = {
        "organisation": line.organisation_id,
        "thematic_area": line.thematic_area_id,
        "funding_category": line.funding_category_id,
    }

    assert (
        first.post(url, {**form, "service": "Helpline (evenings)", "version": opened[0]}).status_code == 302
    )
    response = second.post(url, {**form, "service": "Helpline (days)", "notes": "bob", "version": opened[1]})

    assert response.status_code == 200
    assertContains(response, "Someone else saved a change to line")
    assertContains(response, "Helpline (days)")
    assert Allocation.objects.values_list("service", "version").get(pk=line.pk) == ("Helpline (evenings)", 2)


def test_two_officers_on_the_web_amount_form_the_second_stale_change_is_refused(db):
    from django.test import Client

    line = AllocationFactory(amount=Decimal("100.00"))
    first, second = Client(), Client()
    first.force_login(user_in_role(roles.FINANCE_OFFICER, "ann"))
    second.force_login(user_in_role(roles.FINANCE_OFFICER, "bob"))
    url = f"/allocations/{line.pk}/amount/"
    shown = [session.get(url).context["form"].initial["shown_amount"] for session in (first, second)]
    form = {"effective_date": "2020-09-01"}

    assert (
        first.post(
            url, {**form, "amount": "150.00", "memo": "ann's letter", "shown_amount": shown[0]}
        ).status_code
        == 302
    )
    response = second.post(url, {**form, "amount": "90.00", "memo": "typed by bob", "shown_amount": shown[1]})

    assert response.status_code == 200
    assertContains(response, "since you opened it")
    assertContains(response, "typed by bob")
    assert services.allocation_awarded(line, services.Approval.APPROVED_OR_PENDING) == gbp("150.00")


# ---- Two real connections (PostgreSQL) ----------------------------------------------------------------


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs two real concurrent connections with row locks (PostgreSQL)")


@pytest.mark.django_db(transaction=True)
def test_two_saves_of_one_version_on_two_connections_only_the_first_lands(postgres_only):
    """No lock is taken before the UPDATE: the WHERE version = expected itself decides. The second
    connection's UPDATE waits for the first's row, then finds the version moved on and matches
    nothing."""
    fund = FundFactory(name="Covid fund")

    def save(name):
        return lambda: services.check_and_bump_version(Fund, fund.pk, 1, name=name)

    holding, release = threading.Event(), threading.Event()
    first, first_box = in_thread(hold_then(save("First"), holding, release))
    assert holding.wait(10)
    second, second_box = in_thread(save("Second"))
    second.join(1)
    assert second.is_alive(), "the second UPDATE should wait for the first one's row"
    release.set()
    first.join(10)
    second.join(10)

    assert first_box == {"result": 2}
    assert "Someone else saved a change to this fund" in str(second_box.get("error"))
    assert Fund.objects.values_list("name", "version").get(pk=fund.pk) == ("First", 2)


# ---- Imports into a submitted fund ----------------------------------------------------------------------


def test_an_import_into_a_submitted_fund_is_refused_at_upload_and_at_confirm_naming_the_submission(
    client, seed_fund
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from grants.models import ImportRecord, PendingImport
    from tests.grants.test_import_views import grant
    from tests.grants.workbooks import seed_table

    importer = grant(staff_officer("importer"), "add_allocation", "change_allocation", "add_organisation")
    client.force_login(importer)
    url = f"/funds/{seed_fund.code}/import/"
    # Uploaded while open, so the preview exists; then the return is submitted.
    assert client.post(url, {"file": SimpleUploadedFile("table.xlsx", seed_table())}).status_code == 302
    pending = PendingImport.objects.get()
    submission = submit_return(seed_fund, user_in_role(roles.APPROVER, "sam"))
    locked = escape(services.locked_message(submission))

    preview = client.get(f"{url}{pending.token}/")
    confirm = client.post(f"{url}{pending.token}/", {"digest": preview.context["plan"].digest})
    upload = client.post(url, {"file": SimpleUploadedFile("again.xlsx", seed_table())})

    for response in (preview, confirm, upload):
        assertContains(response, locked)
    assert not ImportRecord.objects.exists()
    assert PendingImport.objects.count() == 1


def test_the_seeds_providers_with_short_names_are_not_reported_as_renamed(seed_fund):
    from grants import selectors

    submission = submit_return(seed_fund, user_in_role(roles.APPROVER, "sam"))
    assert selectors.names_changed_since(submission) == []
    organisation = Organisation.objects.exclude(short_name="").order_by("name").first()
    organisation.short_name = "NEW"
    services.organisation_update(organisation=organisation, acting_user=None)
    changes = selectors.names_changed_since(submission)
    assert changes and {change.current for change in changes} == {f"{organisation.name} (NEW)"}


# ---- Deleting in the admin goes through the services ------------------------------------------------


def test_the_admin_deletes_an_unused_organisation_through_the_service(admin_client):
    organisation = OrganisationFactory(name="Entered twice")
    response = admin_client.post(delete_url(organisation), {"post": "yes"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(table_name="grants_organisation", action="delete")
    assert (event.row_id, event.actor_username, event.reason) == (
        organisation.pk,
        "head-of-finance",
        "Deleted in the admin",
    )


def test_the_unused_rows_service_deletes_all_or_none(db):
    unused = OrganisationFactory(name="Unused")
    used = AllocationFactory().organisation
    with pytest.raises(services.ValidationError, match="cannot be deleted: it still has allocations"):
        services.unused_rows_delete(rows=[unused, used], acting_user=None)
    assert set(Organisation.objects.values_list("pk", flat=True)) == {unused.pk, used.pk}


def test_the_admin_bulk_deletes_unused_reference_data_through_the_service(admin_client):
    rows = [ThematicArea.objects.create(code=f"area-{n}", name=f"Area {n}") for n in range(2)]
    selection = {"action": "delete_selected", "_selected_action": [row.pk for row in rows], "post": "yes"}
    response = admin_client.post(changelist_url("thematicarea"), selection, follow=True)
    assertContains(response, "Successfully deleted 2 thematic areas.")
    assert not ThematicArea.objects.exists()
    deleted = AuditEvent.objects.filter(table_name="grants_thematicarea", action="delete")
    assert set(deleted.values_list("reason", flat=True)) == {"Deleted in the admin"}
