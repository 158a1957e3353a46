"""Creating a fund and correcting its facts, control total and category budgets in the app: the
same services, rules and history as the admin (grants/views/fund_edit.py)."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from djmoney.money import Money

from audit.models import AuditEvent
from grants.forms.funds import CategoryBudgetsForm
from grants.models import CategoryBudget, ControlTotalRevision, Fund, FundYear
from tests.factories import FunderFactory, FundFactory, FundingCategoryFactory, submit_return


def text(response) -> str:
    return response.content.decode()


def facts(fund: Fund, **changes) -> dict:
    """The edit form's POST data for `fund` as the page shows it, with `changes`."""
    data = {
        "code": fund.code,
        "name": fund.name,
        "funder": fund.funder_id,
        "spend_start": fund.spend_start.isoformat(),
        "spend_end": fund.spend_end.isoformat(),
        "control_total": str(fund.control_total.amount),
        "control_total_memo": "",
        "notes": fund.notes,
        "version": fund.version,
    }
    return {**data, **changes}


@pytest.fixture
def fund(db):
    return FundFactory(
        code="vict-2026", name="Victims fund 2026", control_total=Money(Decimal("5000.00"), "GBP")
    )


def test_a_finance_officer_creates_a_fund_and_finds_it_in_the_list(client, officer):
    funder = FunderFactory(name="Ministry of Justice")
    client.force_login(officer)
    assert 'href="/funds/add/"' in text(client.get("/funds/"))

    response = client.post(
        "/funds/add/",
        {
            "code": "moj-vict-2027",
            "name": "Victims services 2027-28",
            "funder": funder.pk,
            "spend_start": "2027-04-01",
            "spend_end": "2028-03-31",
            "control_total": "125000.00",
            "notes": "Award letter of 1 March 2027",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/funds/moj-vict-2027/"
    fund = Fund.objects.get(code="moj-vict-2027")
    assert (fund.name, fund.funder, fund.control_total) == (
        "Victims services 2027-28",
        funder,
        Money(Decimal("125000.00"), "GBP"),
    )
    assert "Victims services 2027-28 added, with a control total of £125,000.00." in text(response)
    assert "moj-vict-2027" in text(client.get("/funds/"))
    created = AuditEvent.objects.get(table_name="grants_fund", row_id=fund.pk)
    assert (created.action, created.actor_username) == ("insert", "officer")


def test_editing_a_funds_facts_saves_them_through_the_service_with_history(client, officer, fund):
    client.force_login(officer)
    assert f'href="/funds/{fund.code}/edit/"' in text(client.get(f"/funds/{fund.code}/"))

    response = client.post(
        f"/funds/{fund.code}/edit/",
        facts(fund, name="Victims fund, revised", code="vict-2026-r", notes="Renamed"),
    )

    assert (response.status_code, response.url) == (302, "/funds/vict-2026-r/")
    fund.refresh_from_db()
    assert (fund.code, fund.name, fund.notes, fund.version) == (
        "vict-2026-r",
        "Victims fund, revised",
        "Renamed",
        2,
    )
    change = AuditEvent.objects.filter(table_name="grants_fund", row_id=fund.pk, action="update").get()
    assert change.actor_username == "officer"
    assert not ControlTotalRevision.objects.exists()


def test_a_control_total_change_is_kept_with_its_reason(client, officer, fund):
    client.force_login(officer)

    response = client.post(
        f"/funds/{fund.code}/edit/",
        facts(fund, control_total="5500.00", control_total_memo="Revised award letter, 2 May 2026"),
    )

    assert response.status_code == 302
    revision = ControlTotalRevision.objects.get(fund=fund)
    assert (revision.previous_amount, revision.new_amount, revision.memo, revision.recorded_by) == (
        Money(Decimal("5000.00"), "GBP"),
        Money(Decimal("5500.00"), "GBP"),
        "Revised award letter, 2 May 2026",
        officer,
    )
    history = text(client.get(f"/funds/{fund.code}/history/"))
    assert "Revised award letter, 2 May 2026" in history


def test_a_control_total_change_without_a_reason_is_refused_beside_the_field(client, officer, fund):
    client.force_login(officer)

    response = client.post(f"/funds/{fund.code}/edit/", facts(fund, control_total="5500.00"))

    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert (
        '<a href="#id_control_total_memo">Reason for a change to the control total: Say why the control '
        "total changed; the reason is kept in the fund&#x27;s history.</a>"
    ) in page
    fund.refresh_from_db()
    assert fund.control_total == Money(Decimal("5000.00"), "GBP")
    assert not ControlTotalRevision.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": "Not A Slug!"}, "code", "Enter a valid “slug”"),
        ({"code": "add"}, "code", "&#x27;add&#x27; is the address of a page; choose another code."),
        ({"name": "=HYPERLINK(1)"}, "name", "formula"),
        (
            {"spend_end": "2020-01-01"},
            "spend_end",
            "The spend period must end on or after the day it starts.",
        ),
        ({"control_total": "0", "control_total_memo": "x"}, "control_total", "greater than or equal to 0.01"),
        ({"control_total": "12.345", "control_total_memo": "x"}, "control_total", "2 decimal places"),
        ({"spend_start": "not a date"}, "spend_start", "Enter a valid date."),
    ],
)
def test_bad_input_is_named_beside_its_field_and_changes_nothing(
    client, officer, fund, changes, field, message
):
    client.force_login(officer)
    before = Fund.objects.values().get(pk=fund.pk)

    response = client.post(f"/funds/{fund.code}/edit/", facts(fund, **changes))

    page = text(response)
    assert response.status_code == 200
    assert f'<a href="#id_{field}">' in page
    assert message in page
    assert Fund.objects.values().get(pk=fund.pk) == before


def test_a_code_another_fund_has_is_refused(client, officer, fund):
    FundFactory(code="taken")
    client.force_login(officer)

    response = client.post(f"/funds/{fund.code}/edit/", facts(fund, code="taken"))

    assert "Another fund has the code taken; codes are unique." in text(response)
    assert Fund.objects.filter(code="vict-2026").exists()


def test_a_submitted_fund_refuses_changes_to_its_facts_but_keeps_its_notes_editable(
    client, officer, approver, fund
):
    submit_return(fund, approver)
    client.force_login(officer)
    page = text(client.get(f"/funds/{fund.code}/edit/"))
    assert 'id="lock-notice"' in page
    # The facts are offered read-only, not as boxes that fail only on saving; the funder offers only itself.
    for name in ("code", "name", "spend_start", "spend_end", "control_total"):
        assert re.search(rf'<input [^>]*name="{name}"[^>]*readonly', page), name
    assert 'name="control_total_memo"' not in page
    assert page.count("<option") == 1
    fund.refresh_from_db()

    refused = client.post(f"/funds/{fund.code}/edit/", facts(fund, name="Renamed while locked"))

    assert refused.status_code == 200
    assert "This fund&#x27;s MoJ return was submitted (version 1" in text(refused)
    assert '<a href="#id_name">' in text(refused)
    assert Fund.objects.get(pk=fund.pk).name == "Victims fund 2026"

    allowed = client.post(f"/funds/{fund.code}/edit/", facts(fund, notes="Return sent on 1 May"))
    assert allowed.status_code == 302
    assert Fund.objects.get(pk=fund.pk).notes == "Return sent on 1 May"


def test_a_form_opened_before_a_colleagues_save_is_refused_with_the_typed_values_kept(officer, fund, db):
    first, second = Client(), Client()
    first.force_login(officer)
    second.force_login(officer)
    opened = facts(fund)  # both sessions open the page at version 1
    assert second.post(f"/funds/{fund.code}/edit/", {**opened, "name": "Second's name"}).status_code == 302

    response = first.post(f"/funds/{fund.code}/edit/", {**opened, "name": "First's name"})

    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "since you opened" in page
    assert 'value="First&#x27;s name"' in page
    assert Fund.objects.get(pk=fund.pk).name == "Second's name"


def test_a_profiled_fund_links_to_its_profile_instead_of_a_control_total(client, officer, fund):
    FundYear.objects.create(fund=fund, year=2020, control_total=Money(Decimal("5000.00"), "GBP"))
    client.force_login(officer)

    response = client.get(f"/funds/{fund.code}/edit/")

    page = text(response)
    assert 'name="control_total"' not in page
    assert f'href="/funds/{fund.code}/profile/"' in page
    posted = client.post(
        f"/funds/{fund.code}/edit/", {**facts(fund, name="Profiled"), "control_total": "1.00"}
    )
    assert posted.status_code == 302
    fund.refresh_from_db()
    assert (fund.name, fund.control_total) == ("Profiled", Money(Decimal("5000.00"), "GBP"))


def test_category_budgets_are_set_changed_and_removed_through_the_services(client, officer, fund):
    shelter = FundingCategoryFactory(code="shelter", name="Shelter")
    advice = FundingCategoryFactory(code="advice", name="Advice")
    client.force_login(officer)
    page = text(client.get(f"/funds/{fund.code}/budgets/"))
    assert 'id="id_budget_shelter"' in page and 'id="id_budget_advice"' in page

    response = client.post(f"/funds/{fund.code}/budgets/", {"budget_shelter": "1200.00", "budget_advice": ""})
    assert response.status_code == 302
    budget = CategoryBudget.objects.get(fund=fund)
    assert (budget.funding_category, budget.amount) == (shelter, Money(Decimal("1200.00"), "GBP"))

    response = client.post(
        f"/funds/{fund.code}/budgets/",
        {"budget_shelter": "", "version_shelter": budget.version, "budget_advice": "300.00"},
    )
    assert response.status_code == 302
    assert [(b.funding_category, b.amount.amount) for b in CategoryBudget.objects.filter(fund=fund)] == [
        (advice, Decimal("300.00"))
    ]
    assert AuditEvent.objects.filter(table_name="grants_categorybudget", action="delete").count() == 1


def test_a_stale_budget_form_is_refused_and_saves_none_of_its_figures(client, officer, fund):
    FundingCategoryFactory(code="advice", name="Advice", sort_order=1)
    shelter = FundingCategoryFactory(code="shelter", name="Shelter", sort_order=2)
    budget = CategoryBudget.objects.create(fund=fund, funding_category=shelter, amount=Money("100.00", "GBP"))
    CategoryBudget.objects.filter(pk=budget.pk).update(version=2)  # a colleague saved it since
    client.force_login(officer)

    response = client.post(
        f"/funds/{fund.code}/budgets/",
        {"budget_advice": "50.00", "budget_shelter": "150.00", "version_shelter": "1"},
    )

    page = text(response)
    assert response.status_code == 200
    assert '<a href="#id_budget_shelter">Shelter (£): Shelter:' in page
    assert [(b.funding_category.code, b.amount.amount) for b in CategoryBudget.objects.filter(fund=fund)] == [
        ("shelter", Decimal("100.00"))
    ]


def test_a_submitted_funds_budgets_page_offers_no_form_and_refuses_a_post(client, officer, approver, fund):
    FundingCategoryFactory(code="shelter", name="Shelter")
    submit_return(fund, approver)
    client.force_login(officer)
    assert '<form method="post" novalidate' not in text(client.get(f"/funds/{fund.code}/budgets/"))

    response = client.post(f"/funds/{fund.code}/budgets/", {"budget_shelter": "10.00"})

    assert response.status_code == 200
    assert not CategoryBudget.objects.exists()


@pytest.mark.parametrize("path", ["/funds/add/", "/funds/vict-2026/edit/", "/funds/vict-2026/budgets/"])
def test_a_viewer_gets_403_and_an_anonymous_user_the_login_page(client, viewer, fund, path):
    assert client.get(path).status_code == 302
    client.force_login(viewer)
    assert client.get(path).status_code == 403
    assert client.post(path, facts(fund, name="By a viewer")).status_code == 403
    assert Fund.objects.get(pk=fund.pk).name == "Victims fund 2026"


def test_a_post_without_the_csrf_token_is_refused(officer, fund):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)

    response = client.post(f"/funds/{fund.code}/edit/", facts(fund, name="Forged"))

    assert response.status_code == 403
    assert Fund.objects.get(pk=fund.pk).name == "Victims fund 2026"


def test_a_budget_a_colleague_added_after_the_form_was_opened_is_not_deleted_by_its_blank(
    client, officer, fund
):
    """The form was opened with no Shelter budget (blank, no version); a colleague then set one. The
    stale form's blank must not remove the colleague's budget, nor its figure overwrite it."""
    FundingCategoryFactory(code="advice", name="Advice", sort_order=1)
    shelter = FundingCategoryFactory(code="shelter", name="Shelter", sort_order=2)
    client.force_login(officer)
    opened = client.get(f"/funds/{fund.code}/budgets/").context["form"]
    assert opened.initial.get("version_shelter") is None
    CategoryBudget.objects.create(fund=fund, funding_category=shelter, amount=Money("700.00", "GBP"))

    blank = client.post(
        f"/funds/{fund.code}/budgets/",
        {"budget_advice": "50.00", "budget_shelter": "", "version_shelter": ""},
    )
    typed = client.post(
        f"/funds/{fund.code}/budgets/",
        {"budget_advice": "50.00", "budget_shelter": "90.00", "version_shelter": ""},
    )

    assert (blank.status_code, typed.status_code) == (200, 200)
    assert "since you opened" in text(blank) and "since you opened" in text(typed)
    assert [(b.funding_category.code, b.amount.amount) for b in CategoryBudget.objects.filter(fund=fund)] == [
        ("shelter", Decimal("700.00"))
    ]


def test_a_budget_a_colleague_removed_after_the_form_was_opened_is_not_put_back(client, officer, fund):
    shelter = FundingCategoryFactory(code="shelter", name="Shelter")
    budget = CategoryBudget.objects.create(fund=fund, funding_category=shelter, amount=Money("700.00", "GBP"))
    client.force_login(officer)
    CategoryBudget.objects.filter(pk=budget.pk).delete()  # a colleague removed it since

    response = client.post(
        f"/funds/{fund.code}/budgets/", {"budget_shelter": "750.00", "version_shelter": str(budget.version)}
    )

    assert response.status_code == 200
    assert "since you opened" in text(response)
    assert not CategoryBudget.objects.filter(fund=fund).exists()


def test_two_categories_whose_codes_differ_by_a_hyphen_keep_their_own_budgets(client, officer, fund):
    """Codes are slugs: young-people and young_people are two categories, each with its own field."""
    hyphen = FundingCategoryFactory(code="young-people", name="Young people (hyphen)", sort_order=1)
    FundingCategoryFactory(code="young_people", name="Young people (underscore)", sort_order=2)
    client.force_login(officer)
    form = client.get(f"/funds/{fund.code}/budgets/").context["form"]
    assert len([name for name in form.fields if name.startswith("budget_")]) == 2

    response = client.post(
        f"/funds/{fund.code}/budgets/",
        {CategoryBudgetsForm.amount_field(hyphen): "100.00"},
    )

    assert response.status_code == 302
    assert [(b.funding_category.code, b.amount.amount) for b in CategoryBudget.objects.filter(fund=fund)] == [
        ("young-people", Decimal("100.00"))
    ]


def test_an_edit_without_the_version_it_was_opened_at_is_refused_not_saved_over_a_colleagues(
    client, officer, fund
):
    """Every other edit form requires its version; without one the service saves over whatever is there."""
    Fund.objects.filter(pk=fund.pk).update(name="Colleague's name", version=2)
    client.force_login(officer)

    response = client.post(f"/funds/{fund.code}/edit/", {**facts(fund, name="Mine"), "version": ""})

    assert response.status_code == 200
    assert Fund.objects.get(pk=fund.pk).name == "Colleague's name"


def test_a_code_differing_from_another_funds_only_in_capitals_is_refused(client, officer, fund):
    """Codes name the funds' downloads (MoJ-return_<code>_v1.xlsx): two that differ only in capitals
    overwrite each other on a case-blind disk, and read as the same fund."""
    client.force_login(officer)

    response = client.post(
        "/funds/add/",
        {
            "code": "VICT-2026",
            "name": "Another",
            "funder": fund.funder_id,
            "spend_start": "2027-04-01",
            "spend_end": "2028-03-31",
            "control_total": "100.00",
        },
    )

    assert response.status_code == 200
    assert "Another fund has the code vict-2026" in text(response)
    assert Fund.objects.count() == 1
