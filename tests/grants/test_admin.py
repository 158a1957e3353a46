"""The grants admin: every page loads, money reads as £1,234.56, and every write goes through the services.

POSTs are built from the rendered form (`changeform_data()`), the way a browser would send it unchanged,
and then the fields under test are overwritten.
"""

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.urls import reverse
from djmoney.money import Money
from pytest_django.asserts import assertContains, assertNotContains

from grants import services
from grants.models import (
    Allocation,
    ControlTotalRevision,
    Fund,
    FundingCategory,
    LedgerEntry,
    Organisation,
    ThematicArea,
)
from tests.factories import (
    AllocationFactory,
    FunderFactory,
    FundFactory,
    OrganisationFactory,
    approve_pending,
    submit_return,
    user_in_role,
)

SEED_ENTRY_COUNT = 16
AMOUNT_REASON_ERROR = "Say why the amount changed; the reason is kept with the variation."
CONTROL_TOTAL_MEMO_ERROR = "Say why the control total changed; the reason is kept in the fund's history."

ALL_MODELS = [
    "fund",
    "funder",
    "organisation",
    "thematicarea",
    "fundingcategory",
    "allocation",
    "ledgerentry",
    "controltotalrevision",
]
ADDABLE_MODELS = ["fund", "funder", "organisation", "thematicarea", "fundingcategory", "allocation"]
READ_ONLY_MODELS = ["ledgerentry", "controltotalrevision"]


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def _as_text(value) -> str:
    return "" if value is None else str(value)


def _posted_values(bound_field) -> dict[str, str]:
    widget = bound_field.field.widget
    widget = getattr(widget, "widget", widget)  # unwrap the admin's RelatedFieldWidgetWrapper
    value = bound_field.value()
    if isinstance(widget, forms.MultiWidget):  # django-money: control_total_0, control_total_1
        parts = widget.decompress(value)
        return {
            f"{bound_field.html_name}{suffix}": _as_text(part)
            for suffix, part in zip(widget.widgets_names, parts, strict=True)
        }
    if isinstance(widget, forms.CheckboxInput):
        return {bound_field.html_name: "on"} if value else {}
    posted = {bound_field.html_name: _as_text(value)}
    if bound_field.field.show_hidden_initial:  # the amount the page showed, posted back as the browser would
        posted[bound_field.html_initial_name] = _as_text(bound_field.initial)
    return posted


def changeform_data(response) -> dict[str, str]:
    """The POST data of a rendered admin add or change form, unchanged: its fields and every inline's."""
    rendered_forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        rendered_forms.append(inline.formset.management_form)
        rendered_forms.extend(inline.formset.forms)
    data = {}
    for form in rendered_forms:
        for bound_field in form:
            data.update(_posted_values(bound_field))
    return data


def changelist_url(model: str) -> str:
    return reverse(f"admin:grants_{model}_changelist")


def add_url(model: str) -> str:
    return reverse(f"admin:grants_{model}_add")


def change_url(obj) -> str:
    return reverse(f"admin:grants_{obj._meta.model_name}_change", args=[obj.pk])


def delete_url(obj) -> str:
    return reverse(f"admin:grants_{obj._meta.model_name}_delete", args=[obj.pk])


def line(fund: Fund, line_number: int) -> Allocation:
    return Allocation.objects.with_awarded().get(fund=fund, line_number=line_number)


def entries_of(allocation: Allocation) -> list[tuple]:
    return list(
        LedgerEntry.objects.filter(allocation=allocation)
        .order_by("pk")
        .values_list("kind", "amount", "memo", "recorded_by", "effective_date")
    )


def fund_entries(fund: Fund) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(allocation__fund=fund).select_related("recorded_by"))


def organisation_pk(name: str) -> str:
    return str(Organisation.objects.get(name=name).pk)


def thematic_area_pk(code: str) -> str:
    return str(ThematicArea.objects.get(code=code).pk)


def funding_category_pk(code: str) -> str:
    return str(FundingCategory.objects.get(code=code).pk)


def result_pks(response) -> list[int]:
    return [obj.pk for obj in response.context["cl"].result_list]


@pytest.fixture
def revision(seed_fund, staff_user):
    """A control total revision, so the revision pages have a row to show."""
    seed_fund.control_total = gbp("738810.82")
    services.fund_save(fund=seed_fund, acting_user=staff_user, memo="Revised award letter of 1 October 2020")
    return ControlTotalRevision.objects.get(fund=seed_fund)


@pytest.fixture
def one_of_each(seed_fund, revision):
    """An existing object of every model the grants admin shows."""
    bcwa_sv = Allocation.objects.get(fund=seed_fund, line_number=1)
    return {
        "fund": seed_fund,
        "funder": seed_fund.funder,
        "organisation": Organisation.objects.get(short_name="BCWA"),
        "thematicarea": ThematicArea.objects.get(code="sexual-violence"),
        "fundingcategory": FundingCategory.objects.get(code="sexual-violence"),
        "allocation": bcwa_sv,
        "ledgerentry": LedgerEntry.objects.get(allocation=bcwa_sv),
        "controltotalrevision": revision,
    }


# Every page loads for a staff superuser.


@pytest.mark.parametrize(
    ("model", "row_count"),
    [
        ("fund", 1),
        ("funder", 1),
        ("organisation", 15),
        ("thematicarea", 2),
        ("fundingcategory", 3),
        ("allocation", 16),
        ("ledgerentry", 16),
        ("controltotalrevision", 0),
    ],
)
def test_changelist_loads_with_every_seed_row(staff_client, seed_fund, model, row_count):
    response = staff_client.get(changelist_url(model))

    assert response.status_code == 200
    assert response.context["cl"].result_count == row_count


@pytest.mark.parametrize("model", ADDABLE_MODELS)
def test_add_form_loads(staff_client, seed_fund, model):
    response = staff_client.get(add_url(model))

    assert response.status_code == 200
    assertContains(response, 'name="_save"')


@pytest.mark.parametrize("model", ALL_MODELS)
def test_change_form_loads_for_an_existing_object(staff_client, one_of_each, model):
    obj = one_of_each[model]

    response = staff_client.get(change_url(obj))

    assert response.status_code == 200
    assert response.context["original"] == obj


def test_allocation_change_form_shows_the_amount_awarded(staff_client, seed_fund):
    response = staff_client.get(change_url(line(seed_fund, 1)))

    assert response.context["adminform"].form["amount"].value() == Decimal("80528.42")


def test_fund_change_form_shows_every_line_inline(staff_client, seed_fund):
    response = staff_client.get(change_url(seed_fund))

    formsets = {inline.formset.prefix: inline.formset for inline in response.context["inline_admin_formsets"]}
    assert list(formsets) == ["category_budgets", "allocations", "years", "control_total_revisions"]
    assert [form.instance.line_number for form in formsets["allocations"].initial_forms] == list(range(1, 17))
    assert formsets["years"].forms == []  # one figure, no profile
    assert len(formsets["allocations"].extra_forms) == 1


@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        ("fund", "moj-ecf", ["moj-ecf-2020"]),
        ("fund", "MoJ", ["moj-ecf-2020"]),
        ("fund", "nothing like it", []),
        ("funder", "GB-GOR-D18", ["moj"]),
        ("organisation", "BCWA", ["Black Country Women's Aid"]),
        ("organisation", "haven", ["Coventry Haven", "Wolverhampton Haven"]),
        ("thematicarea", "domestic", ["domestic-abuse"]),
        ("fundingcategory", "DA PCC", ["da-pcc-commissioned", "da-pcc-non-commissioned"]),
        ("allocation", "BCWA", [1, 4]),
        ("allocation", "Domestic Abuse Service", [4]),
        ("allocation", "moj-ecf-2020", list(range(1, 17))),
        ("ledgerentry", "Black Country", [1, 4]),
        ("controltotalrevision", "award letter", ["moj-ecf-2020"]),
    ],
)
def test_changelist_search_finds_matching_rows(staff_client, seed_fund, revision, model, query, expected):
    response = staff_client.get(changelist_url(model), {"q": query})

    assert response.status_code == 200
    found = response.context["cl"].result_list
    labels = {
        "fund": lambda obj: obj.code,
        "funder": lambda obj: obj.code,
        "organisation": lambda obj: obj.name,
        "thematicarea": lambda obj: obj.code,
        "fundingcategory": lambda obj: obj.code,
        "allocation": lambda obj: obj.line_number,
        "ledgerentry": lambda obj: obj.allocation.line_number,
        "controltotalrevision": lambda obj: obj.fund.code,
    }
    assert sorted(labels[model](obj) for obj in found) == expected


def test_allocation_changelist_filters_by_fund_thematic_area_and_funding_category(staff_client, seed_fund):
    domestic_abuse = ThematicArea.objects.get(code="domestic-abuse")
    non_commissioned = FundingCategory.objects.get(code="da-pcc-non-commissioned")
    other_line = AllocationFactory(thematic_area=domestic_abuse, funding_category=non_commissioned)
    url = changelist_url("allocation")

    by_fund = staff_client.get(url, {"fund__id__exact": seed_fund.pk})
    by_area_and_category = {
        "thematic_area__id__exact": domestic_abuse.pk,
        "funding_category__id__exact": non_commissioned.pk,
    }
    by_both = staff_client.get(url, by_area_and_category)
    by_all_three = staff_client.get(url, {"fund__id__exact": seed_fund.pk, **by_area_and_category})
    by_other_fund = staff_client.get(url, {"fund__id__exact": other_line.fund_id})

    assert [obj.line_number for obj in by_fund.context["cl"].result_list] == list(range(1, 17))
    assert by_both.context["cl"].result_count == 5
    assert [obj.line_number for obj in by_all_three.context["cl"].result_list] == [13, 14, 15, 16]
    assert result_pks(by_other_fund) == [other_line.pk]


def test_fund_changelist_filters_by_funder(staff_client, seed_fund):
    other_fund = FundFactory(funder=FunderFactory(code="home-office", name="Home Office", short_name="HO"))

    by_moj = staff_client.get(changelist_url("fund"), {"funder__id__exact": seed_fund.funder_id})
    by_home_office = staff_client.get(changelist_url("fund"), {"funder__id__exact": other_fund.funder_id})

    assert result_pks(by_moj) == [seed_fund.pk]
    assert result_pks(by_home_office) == [other_fund.pk]


def test_ledger_entry_changelist_filters_by_kind_fund_and_effective_date(staff_client, seed_fund, staff_user):
    variation = services.allocation_set_amount(
        allocation=line(seed_fund, 2),
        amount="130000.00",
        memo="Rounded down",
        effective_date=datetime.date(2020, 9, 1),
        acting_user=staff_user,
    )
    other_line = AllocationFactory(effective_date=datetime.date(2021, 5, 1))
    url = changelist_url("ledgerentry")

    variations = staff_client.get(url, {"kind__exact": "variation"})
    awards = staff_client.get(url, {"kind__exact": "award"})
    in_seed_fund = staff_client.get(url, {"fund__id__exact": seed_fund.pk})
    in_other_fund = staff_client.get(url, {"fund__id__exact": other_line.fund_id})
    on_the_report_date = staff_client.get(
        url, {"effective_date__gte": "2020-08-19", "effective_date__lt": "2020-08-20"}
    )

    assert result_pks(variations) == [variation.pk]
    assert awards.context["cl"].result_count == SEED_ENTRY_COUNT + 1
    assert in_seed_fund.context["cl"].result_count == SEED_ENTRY_COUNT + 1
    assert result_pks(in_other_fund) == [other_line.entries.get().pk]
    assert on_the_report_date.context["cl"].result_count == SEED_ENTRY_COUNT


def test_control_total_revision_changelist_filters_by_fund(staff_client, seed_fund, revision):
    other_fund = FundFactory()
    other_fund.control_total = gbp("2000.00")
    services.fund_save(fund=other_fund, acting_user=None, memo="Doubled")
    url = changelist_url("controltotalrevision")

    by_seed_fund = staff_client.get(url, {"fund__id__exact": seed_fund.pk})
    by_other_fund = staff_client.get(url, {"fund__id__exact": other_fund.pk})

    assert result_pks(by_seed_fund) == [revision.pk]
    assert result_pks(by_other_fund) == [other_fund.control_total_revisions.get().pk]


# Anonymous users are sent to the login page.


def _every_admin_url(objects) -> list[str]:
    urls = [changelist_url(model) for model in ALL_MODELS]
    urls += [add_url(model) for model in ALL_MODELS]
    urls += [change_url(obj) for obj in objects.values()]
    return urls


def test_anonymous_user_is_redirected_to_the_admin_login_from_every_grants_admin_page(client, one_of_each):
    login = reverse("admin:login")

    for url in _every_admin_url(one_of_each):
        response = client.get(url)
        assert (response.status_code, response.url) == (302, f"{login}?next={url}"), url


def test_anonymous_post_to_a_change_form_is_redirected_and_records_nothing(client, seed_fund):
    allocation = line(seed_fund, 1)
    url = change_url(allocation)

    response = client.post(url, {"amount": "1.00", "memo": "Not allowed"})

    assert (response.status_code, response.url) == (302, f"{reverse('admin:login')}?next={url}")
    assert LedgerEntry.objects.count() == SEED_ENTRY_COUNT


# Money shows as £1,234.56.


def test_fund_changelist_shows_control_total_ledger_total_variance_and_status(staff_client, seed_fund):
    response = staff_client.get(changelist_url("fund"))

    assertContains(response, '<td class="field-control_total_display">£738,810.53</td>', html=True)
    assertContains(response, '<td class="field-ledger_total_display">£738,810.82</td>', html=True)
    assertContains(response, '<td class="field-variance_display">£0.29</td>', html=True)
    assertContains(response, '<td class="field-status">over-allocated</td>', html=True)


def test_fund_changelist_shows_reconciled_once_the_control_total_matches(staff_client, revision):
    response = staff_client.get(changelist_url("fund"))

    assertContains(response, '<td class="field-control_total_display">£738,810.82</td>', html=True)
    assertContains(response, '<td class="field-variance_display">£0.00</td>', html=True)
    assertContains(response, '<td class="field-status">reconciled</td>', html=True)


def test_fund_changelist_shows_an_under_allocated_fund_with_a_negative_variance(staff_client, seed_fund):
    services.allocation_set_amount(
        allocation=line(seed_fund, 8), amount="0.00", memo="Withdrawn", acting_user=None
    )
    approve_pending(allocation=line(seed_fund, 8))

    response = staff_client.get(changelist_url("fund"))

    assertContains(response, '<td class="field-ledger_total_display">£737,545.82</td>', html=True)
    assertContains(response, '<td class="field-variance_display">-£1,264.71</td>', html=True)
    assertContains(response, '<td class="field-status">under-allocated</td>', html=True)


def test_allocation_changelist_shows_each_line_amount_in_pounds(staff_client, seed_fund):
    response = staff_client.get(changelist_url("allocation"))

    assertContains(response, '<td class="field-awarded_display">£80,528.42</td>', html=True)
    assertContains(response, '<td class="field-awarded_display">£1,265.00</td>', html=True)


def test_allocation_changelist_shows_the_amount_after_variations(staff_client, seed_fund):
    services.allocation_set_amount(
        allocation=line(seed_fund, 1), amount="80000.00", memo="Revised bid", acting_user=None
    )
    approve_pending(allocation=line(seed_fund, 1))

    response = staff_client.get(changelist_url("allocation"))

    assertContains(response, '<td class="field-awarded_display">£80,000.00</td>', html=True)
    assertNotContains(response, "£80,528.42")


def test_ledger_entry_and_revision_changelists_show_amounts_in_pounds(staff_client, seed_fund, revision):
    services.allocation_set_amount(
        allocation=line(seed_fund, 1), amount="80000.00", memo="Revised bid", acting_user=None
    )

    entries = staff_client.get(changelist_url("ledgerentry"))
    revisions = staff_client.get(changelist_url("controltotalrevision"))

    assertContains(entries, '<td class="field-amount_display">£80,528.42</td>', html=True)
    assertContains(entries, '<td class="field-amount_display">-£528.42</td>', html=True)
    assertContains(revisions, '<td class="field-previous_display">£738,810.53</td>', html=True)
    assertContains(revisions, '<td class="field-new_display">£738,810.82</td>', html=True)


# Editing an allocation's amount in its change form.


@pytest.fixture
def bcwa_sv(seed_fund):
    return line(seed_fund, 1)


@pytest.fixture
def bcwa_sv_form(staff_client, bcwa_sv):
    """The allocation change form's POST data as rendered, before any edit."""
    return changeform_data(staff_client.get(change_url(bcwa_sv)))


SEED_AWARD = (
    LedgerEntry.Kind.AWARD,
    Decimal("80528.42"),
    "Award as printed in the OPCC West Midlands report to the Strategic Policing and Crime Board, "
    "19 August 2020, paragraph 27.",
    None,
    datetime.date(2020, 8, 19),
)


def test_allocation_change_form_records_a_variation_for_the_difference(
    staff_client, staff_user, bcwa_sv, bcwa_sv_form
):
    bcwa_sv_form.update(amount="80000.00", effective_date="2020-09-30", memo="Revised bid, 30 September")

    response = staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    assert (response.status_code, response.url) == (302, changelist_url("allocation"))
    assert entries_of(bcwa_sv) == [
        SEED_AWARD,
        (
            LedgerEntry.Kind.VARIATION,
            Decimal("-528.42"),
            "Revised bid, 30 September",
            staff_user.pk,
            datetime.date(2020, 9, 30),
        ),
    ]
    # The variation waits for approval; once approved it counts.
    assert line(bcwa_sv.fund, 1).awarded == Decimal("80528.42")
    approve_pending(allocation=bcwa_sv)
    assert line(bcwa_sv.fund, 1).awarded == Decimal("80000.00")


def test_allocation_change_form_records_an_increase(staff_client, staff_user, bcwa_sv, bcwa_sv_form):
    bcwa_sv_form.update(amount="81000.01", memo="Extra sessions")

    staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    variation = LedgerEntry.objects.get(allocation=bcwa_sv, kind=LedgerEntry.Kind.VARIATION)
    assert (variation.amount, variation.memo, variation.recorded_by) == (
        gbp("471.59"),
        "Extra sessions",
        staff_user,
    )
    approve_pending(allocation=bcwa_sv)
    assert line(bcwa_sv.fund, 1).awarded == Decimal("81000.01")


def test_allocation_change_form_can_vary_a_line_down_to_zero(staff_client, bcwa_sv, bcwa_sv_form):
    bcwa_sv_form.update(amount="0.00", memo="Service withdrawn")

    staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    assert LedgerEntry.objects.get(allocation=bcwa_sv, kind=LedgerEntry.Kind.VARIATION).amount == gbp(
        "-80528.42"
    )
    approve_pending(allocation=bcwa_sv)
    assert line(bcwa_sv.fund, 1).awarded == Decimal("0.00")


def test_allocation_change_form_refuses_a_new_amount_without_a_reason(staff_client, bcwa_sv, bcwa_sv_form):
    bcwa_sv_form.update(amount="80000.00", memo="   ")

    response = staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"memo": [AMOUNT_REASON_ERROR]}
    assertContains(response, AMOUNT_REASON_ERROR)
    assert entries_of(bcwa_sv) == [SEED_AWARD]
    assert line(bcwa_sv.fund, 1).awarded == Decimal("80528.42")


def test_allocation_change_form_refuses_three_decimal_places(staff_client, bcwa_sv, bcwa_sv_form):
    bcwa_sv_form.update(amount="80000.005", memo="Too precise")

    response = staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "amount": ["Ensure that there are no more than 2 decimal places."]
    }
    assert entries_of(bcwa_sv) == [SEED_AWARD]


def test_allocation_change_form_with_the_same_amount_records_no_entry(staff_client, bcwa_sv, bcwa_sv_form):
    assert bcwa_sv_form["amount"] == "80528.42"
    bcwa_sv_form.update(service="Sexual Violence Counselling", memo="Renamed")

    response = staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    assert (response.status_code, response.url) == (302, changelist_url("allocation"))
    assert entries_of(bcwa_sv) == [SEED_AWARD]
    # The line has approved money, so the new service is proposed, not saved.
    assert Allocation.objects.get(pk=bcwa_sv.pk).service == "Sexual Violence Service"
    change = bcwa_sv.changes.get()
    assert (change.was_service, change.service, change.reason, change.is_pending) == (
        "Sexual Violence Service",
        "Sexual Violence Counselling",
        "Renamed",
        True,
    )


def test_the_admin_asks_why_when_a_line_with_approved_money_changes_provider(
    staff_client, bcwa_sv, bcwa_sv_form
):
    other = OrganisationFactory(name="A new payee")
    bcwa_sv_form.update(organisation=str(other.pk), memo="")

    response = staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"memo": [services.LINE_CHANGE_REASON_NEEDED]}
    assert Allocation.objects.get(pk=bcwa_sv.pk).organisation_id == bcwa_sv.organisation_id
    assert not bcwa_sv.changes.exists()


def test_the_admin_refuses_a_second_change_while_one_awaits_approval(staff_client, bcwa_sv, bcwa_sv_form):
    first = OrganisationFactory(name="First payee")
    bcwa_sv_form.update(organisation=str(first.pk), memo="Merger")
    staff_client.post(change_url(bcwa_sv), bcwa_sv_form)
    waiting = bcwa_sv.changes.get()
    second = changeform_data(staff_client.get(change_url(bcwa_sv)))
    second.update(organisation=str(OrganisationFactory(name="Second payee").pk), memo="Another")

    response = staff_client.post(change_url(bcwa_sv), second)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        services.line_change_pending_message(waiting)
    ]
    assert list(bcwa_sv.changes.all()) == [waiting]


def test_a_stale_allocation_form_does_not_undo_a_colleagues_change(staff_client, bcwa_sv, bcwa_sv_form):
    # The page was opened at £80,528.42; a colleague then raised the line to £80,600.00 (awaiting
    # approval while the form is posted).
    services.allocation_set_amount(allocation=bcwa_sv, amount="80600.00", memo="Colleague", acting_user=None)
    bcwa_sv_form.update(service="Sexual Violence Counselling", memo="Renamed")

    response = staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    assert (response.status_code, response.url) == (302, changelist_url("allocation"))
    approve_pending(allocation=bcwa_sv)
    assert line(bcwa_sv.fund, 1).awarded == Decimal("80600.00")
    # The line has approved money: the new service is proposed, awaiting approval.
    assert bcwa_sv.changes.get().service == "Sexual Violence Counselling"


def test_a_stale_amount_change_is_refused_with_the_current_figure(staff_client, bcwa_sv, bcwa_sv_form):
    # The colleague's change is still awaiting approval: the recorded figure is what a change starts from.
    services.allocation_set_amount(allocation=bcwa_sv, amount="80600.00", memo="Colleague", acting_user=None)
    bcwa_sv_form.update(amount="80000.00", memo="Revised bid")

    response = staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    assert response.status_code == 200
    assertContains(
        response,
        "Someone else has changed this line&#x27;s amount to £80,600.00 since you opened it.",
    )
    approve_pending(allocation=bcwa_sv)
    assert line(bcwa_sv.fund, 1).awarded == Decimal("80600.00")


def test_a_pending_change_is_where_the_next_change_starts(staff_client, staff_user, bcwa_sv):
    # The form shows the recorded amount (approved or not), as allocation_set_amount() counts it.
    services.allocation_set_amount(allocation=bcwa_sv, amount="80600.00", memo="Colleague", acting_user=None)
    form = changeform_data(staff_client.get(change_url(bcwa_sv)))
    assert form["amount"] == "80600.00"
    form.update(amount="80000.00", memo="Revised bid")

    response = staff_client.post(change_url(bcwa_sv), form)

    assert (response.status_code, response.url) == (302, changelist_url("allocation"))
    assert [entry[:2] for entry in entries_of(bcwa_sv)] == [
        (LedgerEntry.Kind.AWARD, Decimal("80528.42")),
        (LedgerEntry.Kind.VARIATION, Decimal("71.58")),
        (LedgerEntry.Kind.VARIATION, Decimal("-600.00")),
    ]
    approve_pending(allocation=bcwa_sv)
    assert line(bcwa_sv.fund, 1).awarded == Decimal("80000.00")


@pytest.fixture
def submitted_fund(seed_fund):
    """The seed fund with its MoJ return submitted, so its figures are locked."""
    submit_return(seed_fund, user_in_role("Approver", "approver-a"))
    return seed_fund


def test_a_submitted_funds_line_is_refused_in_the_form_with_the_services_message(
    staff_client, submitted_fund, bcwa_sv, bcwa_sv_form
):
    bcwa_sv_form.update(amount="80000.00", memo="Revised bid")

    response = staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    assert response.status_code == 200
    submission = submitted_fund.submissions.get()
    assert response.context["adminform"].form.errors == {"__all__": [services.locked_message(submission)]}
    assert entries_of(bcwa_sv) == [SEED_AWARD]


def test_a_submitted_funds_control_total_is_refused_in_the_form(staff_client, submitted_fund):
    form = changeform_data(staff_client.get(change_url(submitted_fund)))
    form.update(control_total_0="738810.82", control_total_memo="Revised award letter")

    response = staff_client.post(change_url(submitted_fund), form)

    assert response.status_code == 200
    submission = submitted_fund.submissions.get()
    assert response.context["adminform"].form.errors == {
        "control_total": [services.locked_message(submission)]
    }
    assert Fund.objects.get(pk=submitted_fund.pk).control_total == gbp("738810.53")
    assert ControlTotalRevision.objects.count() == 0


def test_an_existing_line_cannot_be_moved_to_another_fund_in_the_admin(staff_client, bcwa_sv, bcwa_sv_form):
    other = FundFactory(code="other-fund")
    response = staff_client.get(change_url(bcwa_sv))
    assert "fund" not in response.context["adminform"].form.fields
    bcwa_sv_form.update(fund=str(other.pk))

    staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    assert Allocation.objects.get(pk=bcwa_sv.pk).fund.code == "moj-ecf-2020"


def test_allocation_change_form_logs_the_change_in_the_object_history(
    staff_client, staff_user, bcwa_sv, bcwa_sv_form
):
    bcwa_sv_form.update(amount="80000.00", memo="Revised bid")

    staff_client.post(change_url(bcwa_sv), bcwa_sv_form)

    log = LogEntry.objects.get(object_id=str(bcwa_sv.pk), content_type__model="allocation")
    assert (log.action_flag, log.user, log.get_change_message()) == (
        CHANGE,
        staff_user,
        "Changed Amount (£) and Reason.",
    )


# Adding an allocation through the admin.


def test_allocation_add_form_creates_the_line_with_its_award_recorded_by_the_user(
    staff_client, staff_user, seed_fund
):
    data = changeform_data(staff_client.get(add_url("allocation")))
    data.update(
        fund=str(seed_fund.pk),
        line_number="17",
        organisation=organisation_pk("Roshni"),
        service="Outreach",
        thematic_area=thematic_area_pk("domestic-abuse"),
        funding_category=funding_category_pk("da-pcc-commissioned"),
        amount="1234.56",
        effective_date="2020-09-15",
        memo="Late award, 15 September",
        source_text="Roshni Outreach",
    )

    response = staff_client.post(add_url("allocation"), data)

    assert (response.status_code, response.url) == (302, changelist_url("allocation"))
    added = Allocation.objects.with_summed_figures().get(fund=seed_fund, line_number=17)
    # The award waits for approval: it is recorded but not yet in the approved amount.
    assert (
        added.organisation.name,
        added.service,
        added.source_text,
        added.awarded,
        added.awarded_pending,
    ) == ("Roshni", "Outreach", "Roshni Outreach", Decimal("0"), Decimal("1234.56"))
    assert added.entries.get().approved_at is None
    assert entries_of(added) == [
        (
            LedgerEntry.Kind.AWARD,
            Decimal("1234.56"),
            "Late award, 15 September",
            staff_user.pk,
            datetime.date(2020, 9, 15),
        )
    ]
    log = LogEntry.objects.get(object_id=str(added.pk), content_type__model="allocation")
    assert (log.action_flag, log.user, log.object_repr) == (
        ADDITION,
        staff_user,
        "moj-ecf-2020 line 17: Roshni Outreach",
    )


def test_allocation_add_form_refuses_a_zero_award(staff_client, seed_fund):
    data = changeform_data(staff_client.get(add_url("allocation")))
    data.update(
        fund=str(seed_fund.pk),
        line_number="17",
        organisation=organisation_pk("Roshni"),
        thematic_area=thematic_area_pk("domestic-abuse"),
        funding_category=funding_category_pk("da-pcc-commissioned"),
        service="Outreach",
        amount="0.00",
    )

    response = staff_client.post(add_url("allocation"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"amount": ["An award must be more than £0.00."]}
    assert not Allocation.objects.filter(fund=seed_fund, line_number=17).exists()


def test_allocation_add_form_refuses_a_line_number_the_fund_already_has(staff_client, seed_fund):
    data = changeform_data(staff_client.get(add_url("allocation")))
    data.update(
        fund=str(seed_fund.pk),
        line_number="1",
        organisation=organisation_pk("Roshni"),
        service="Outreach",
        thematic_area=thematic_area_pk("domestic-abuse"),
        funding_category=funding_category_pk("da-pcc-commissioned"),
        amount="10.00",
    )

    response = staff_client.post(add_url("allocation"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "__all__": ["This fund already has a line with that number."]
    }
    assert LedgerEntry.objects.count() == SEED_ENTRY_COUNT


LINE_TWICE = (
    "This fund already has a line for that organisation and service in that thematic area "
    "and funding category."
)


def bcwa_domestic_abuse_line(staff_client, seed_fund, funding_category_code):
    """The add form for a second BCWA "Domestic Abuse Service" line (line 4 is one, commissioned)."""
    data = changeform_data(staff_client.get(add_url("allocation")))
    data.update(
        fund=str(seed_fund.pk),
        line_number="17",
        organisation=organisation_pk("Black Country Women's Aid"),
        service="Domestic Abuse Service",
        thematic_area=thematic_area_pk("domestic-abuse"),
        funding_category=funding_category_pk(funding_category_code),
        amount="10.00",
        memo="Second line",
    )
    return data


def test_allocation_add_form_refuses_a_line_the_fund_already_has(staff_client, seed_fund):
    data = bcwa_domestic_abuse_line(staff_client, seed_fund, "da-pcc-commissioned")

    response = staff_client.post(add_url("allocation"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"__all__": [LINE_TWICE]}
    assert not Allocation.objects.filter(fund=seed_fund, line_number=17).exists()
    assert LedgerEntry.objects.count() == SEED_ENTRY_COUNT


def test_allocation_add_form_adds_a_line_for_the_organisation_in_another_category(staff_client, seed_fund):
    data = bcwa_domestic_abuse_line(staff_client, seed_fund, "da-pcc-non-commissioned")

    response = staff_client.post(add_url("allocation"), data)

    assert (response.status_code, response.url) == (302, changelist_url("allocation"))
    added = Allocation.objects.get(fund=seed_fund, line_number=17)
    assert (added.organisation.short_name, added.service, added.funding_category.code) == (
        "BCWA",
        "Domestic Abuse Service",
        "da-pcc-non-commissioned",
    )


def test_allocation_change_form_refuses_a_category_that_makes_the_line_a_second_copy(staff_client, seed_fund):
    bcwa = Organisation.objects.get(short_name="BCWA")
    other = AllocationFactory(
        fund=seed_fund,
        line_number=17,
        organisation=bcwa,
        service="Domestic Abuse Service",
        thematic_area=ThematicArea.objects.get(code="domestic-abuse"),
        funding_category=FundingCategory.objects.get(code="da-pcc-non-commissioned"),
    )
    data = changeform_data(staff_client.get(change_url(other)))
    data.update(funding_category=funding_category_pk("da-pcc-commissioned"), memo="Wrong category")

    response = staff_client.post(change_url(other), data, follow=True)

    # The form leaves the fund out (it cannot change), so the service's check is the one that refuses.
    assert response.redirect_chain == [(change_url(other), 302)]
    assert [str(message) for message in response.context["messages"]] == [f"Nothing was saved. {LINE_TWICE}"]
    other.refresh_from_db()
    assert other.funding_category.code == "da-pcc-non-commissioned"
    assert not other.changes.exists()


# Allocations edited inline under their fund.


@pytest.fixture
def fund_form(staff_client, seed_fund):
    """The fund change form's POST data as rendered, with every inline and management form."""
    response = staff_client.get(change_url(seed_fund))
    allocations = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is Allocation
    )
    assert allocations.prefix == "allocations"
    assert [form.instance.line_number for form in allocations.forms[:2]] == [1, 2]
    return changeform_data(response)


def test_fund_change_form_posted_unchanged_records_nothing(staff_client, seed_fund, fund_form):
    response = staff_client.post(change_url(seed_fund), fund_form)

    assert (response.status_code, response.url) == (302, changelist_url("fund"))
    assert LedgerEntry.objects.count() == SEED_ENTRY_COUNT
    assert Allocation.objects.filter(fund=seed_fund).count() == 16
    assert ControlTotalRevision.objects.count() == 0


def test_fund_change_form_varies_a_line_and_adds_a_line_through_the_services(
    staff_client, staff_user, seed_fund, fund_form
):
    fund_form.update(
        {
            "allocations-1-amount": "130000.00",
            "allocations-1-effective_date": "2020-10-01",
            "allocations-1-memo": "Rounded down on the revised grant agreement",
            "allocations-16-line_number": "17",
            "allocations-16-organisation": organisation_pk("Panahghar"),
            "allocations-16-service": "Helpline",
            "allocations-16-thematic_area": thematic_area_pk("domestic-abuse"),
            "allocations-16-funding_category": funding_category_pk("da-pcc-commissioned"),
            "allocations-16-amount": "500.00",
            "allocations-16-effective_date": "2020-10-02",
            "allocations-16-memo": "Helpline top-up",
        }
    )

    response = staff_client.post(change_url(seed_fund), fund_form)

    assert (response.status_code, response.url) == (302, changelist_url("fund"))
    # Both new entries wait for approval; the approved total is as before until they are approved.
    assert LedgerEntry.objects.pending().count() == 2
    assert Fund.objects.with_ledger_total().get(pk=seed_fund.pk).ledger_total == Decimal("738810.82")
    approve_pending(fund=seed_fund)
    rsvp = line(seed_fund, 2)
    assert rsvp.awarded == Decimal("130000.00")
    assert entries_of(rsvp)[1:] == [
        (
            LedgerEntry.Kind.VARIATION,
            Decimal("-5.67"),
            "Rounded down on the revised grant agreement",
            staff_user.pk,
            datetime.date(2020, 10, 1),
        )
    ]
    added = line(seed_fund, 17)
    assert (added.organisation.name, added.service, added.awarded) == (
        "Panahghar",
        "Helpline",
        Decimal("500.00"),
    )
    assert entries_of(added) == [
        (
            LedgerEntry.Kind.AWARD,
            Decimal("500.00"),
            "Helpline top-up",
            staff_user.pk,
            datetime.date(2020, 10, 2),
        )
    ]
    assert LedgerEntry.objects.count() == SEED_ENTRY_COUNT + 2
    # £738,810.82 - £5.67 + £500.00
    assert Fund.objects.with_ledger_total().get(pk=seed_fund.pk).ledger_total == Decimal("739305.15")


def test_fund_change_form_refuses_a_line_amount_change_without_a_reason(staff_client, seed_fund, fund_form):
    fund_form.update({"allocations-1-amount": "130000.00", "allocations-1-memo": ""})

    response = staff_client.post(change_url(seed_fund), fund_form)

    assert response.status_code == 200
    allocations = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is Allocation
    )
    assert allocations.errors[1] == {"memo": [AMOUNT_REASON_ERROR]}
    assert LedgerEntry.objects.count() == SEED_ENTRY_COUNT
    assert line(seed_fund, 2).awarded == Decimal("130005.67")


def test_fund_change_form_refuses_a_control_total_change_without_a_reason(staff_client, seed_fund, fund_form):
    fund_form.update(control_total_0="738810.82", control_total_memo="")

    response = staff_client.post(change_url(seed_fund), fund_form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"control_total_memo": [CONTROL_TOTAL_MEMO_ERROR]}
    assert ControlTotalRevision.objects.count() == 0
    assert Fund.objects.get(pk=seed_fund.pk).control_total == gbp("738810.53")


def test_fund_change_form_records_a_control_total_revision_with_its_reason(
    staff_client, staff_user, seed_fund, fund_form
):
    assert (fund_form["control_total_0"], fund_form["control_total_1"]) == ("738810.53", "GBP")
    fund_form.update(control_total_0="738810.82", control_total_memo="Revised award letter, 1 October 2020")

    response = staff_client.post(change_url(seed_fund), fund_form)

    assert (response.status_code, response.url) == (302, changelist_url("fund"))
    revision = ControlTotalRevision.objects.get(fund=seed_fund)
    assert (revision.previous_amount, revision.new_amount, revision.memo, revision.recorded_by) == (
        gbp("738810.53"),
        gbp("738810.82"),
        "Revised award letter, 1 October 2020",
        staff_user,
    )
    assert Fund.objects.get(pk=seed_fund.pk).control_total == gbp("738810.82")
    assert LedgerEntry.objects.count() == SEED_ENTRY_COUNT


def test_fund_change_form_adds_a_ring_fenced_category_budget(staff_client, seed_fund, fund_form):
    fund_form.update(
        {
            "category_budgets-TOTAL_FORMS": "1",
            "category_budgets-0-fund": str(seed_fund.pk),
            "category_budgets-0-funding_category": funding_category_pk("sexual-violence"),
            "category_budgets-0-amount_0": "246111.19",
            "category_budgets-0-amount_1": "GBP",
        }
    )

    response = staff_client.post(change_url(seed_fund), fund_form)

    assert (response.status_code, response.url) == (302, changelist_url("fund"))
    assert [(budget.funding_category.code, budget.amount) for budget in seed_fund.category_budgets.all()] == [
        ("sexual-violence", gbp("246111.19"))
    ]
    assert LedgerEntry.objects.count() == SEED_ENTRY_COUNT


def test_fund_add_form_creates_a_fund_with_its_first_line(staff_client, staff_user, seed_fund):
    data = changeform_data(staff_client.get(add_url("fund")))
    data.update(
        {
            "code": "moj-ecf-2021",
            "name": "Extraordinary Covid Fund, second round",
            "funder": str(seed_fund.funder_id),
            "spend_start": "2021-04-01",
            "spend_end": "2022-03-31",
            "control_total_0": "1000.00",
            "control_total_1": "GBP",
            "allocations-0-line_number": "1",
            "allocations-0-organisation": organisation_pk("Roshni"),
            "allocations-0-thematic_area": thematic_area_pk("domestic-abuse"),
            "allocations-0-funding_category": funding_category_pk("da-pcc-commissioned"),
            "allocations-0-amount": "999.99",
            "allocations-0-memo": "",
        }
    )

    response = staff_client.post(add_url("fund"), data)

    assert (response.status_code, response.url) == (302, changelist_url("fund"))
    fund = Fund.objects.get(code="moj-ecf-2021")
    assert fund.control_total == gbp("1000.00")
    assert [(entry.kind, entry.amount, entry.memo, entry.recorded_by) for entry in fund_entries(fund)] == [
        (LedgerEntry.Kind.AWARD, gbp("999.99"), "Award", staff_user)
    ]
    assert ControlTotalRevision.objects.count() == 0


# Ledger history is read-only in the admin; allocations are never deleted.


@pytest.mark.parametrize("model", READ_ONLY_MODELS)
def test_read_only_history_cannot_be_added(staff_client, seed_fund, model):
    assert staff_client.get(add_url(model)).status_code == 403
    assert staff_client.post(add_url(model), {}).status_code == 403


@pytest.mark.parametrize("model", READ_ONLY_MODELS)
def test_read_only_history_change_form_has_no_save_button(staff_client, one_of_each, model):
    response = staff_client.get(change_url(one_of_each[model]))

    assert response.status_code == 200
    assertNotContains(response, 'name="_save"')
    assertNotContains(response, 'name="_continue"')
    assertNotContains(response, delete_url(one_of_each[model]))


def test_ledger_entry_cannot_be_changed_by_posting_its_change_form(staff_client, one_of_each):
    entry = one_of_each["ledgerentry"]

    response = staff_client.post(change_url(entry), {"amount_0": "1.00", "amount_1": "GBP", "memo": "Edited"})

    assert response.status_code == 403
    assert LedgerEntry.objects.values_list("amount", "memo").get(pk=entry.pk) == (
        Decimal("80528.42"),
        SEED_AWARD[2],
    )


def test_control_total_revision_cannot_be_changed_by_posting_its_change_form(staff_client, revision):
    response = staff_client.post(change_url(revision), {"memo": "Edited"})

    assert response.status_code == 403
    assert ControlTotalRevision.objects.get(pk=revision.pk).memo == "Revised award letter of 1 October 2020"


@pytest.mark.parametrize("model", [*READ_ONLY_MODELS, "allocation"])
def test_history_and_allocations_cannot_be_deleted(staff_client, one_of_each, model):
    obj = one_of_each[model]

    assert staff_client.get(delete_url(obj)).status_code == 403
    assert staff_client.post(delete_url(obj), {"post": "yes"}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


# The one bulk action on these lists: approving ledger entries (for users who may approve).
BULK_ACTIONS = {"ledgerentry": ["approve_entries"]}


@pytest.mark.parametrize("model", [*READ_ONLY_MODELS, "allocation"])
def test_changelist_offers_no_bulk_delete(staff_client, one_of_each, model):
    obj = one_of_each[model]
    url = changelist_url(model)

    listing = staff_client.get(url)
    forced = staff_client.post(
        url, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    )

    action_form = listing.context["action_form"]
    offered = (
        [] if action_form is None else [name for name, _ in action_form.fields["action"].choices if name]
    )
    assert offered == BULK_ACTIONS.get(model, [])
    assertNotContains(listing, 'value="delete_selected"')
    if offered:
        # The admin refuses an action it does not offer ("No action selected") and lists again.
        assert (forced.status_code, forced.url) == (302, url)
    else:
        # With no actions the admin ignores the posted one and shows the list again.
        assert forced.status_code == 200
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_allocation_change_form_has_no_delete_link(staff_client, bcwa_sv):
    response = staff_client.get(change_url(bcwa_sv))

    assertContains(response, 'name="_save"')
    assertNotContains(response, delete_url(bcwa_sv))


def test_fund_change_form_offers_no_deletion_of_lines_and_no_editing_of_revisions(
    staff_client, seed_fund, revision
):
    response = staff_client.get(change_url(seed_fund))

    formsets = {inline.formset.prefix: inline.formset for inline in response.context["inline_admin_formsets"]}
    assert formsets["allocations"].can_delete is False
    assert formsets["control_total_revisions"].can_delete is False
    assert formsets["control_total_revisions"].max_num == 0
    assert [list(form.fields) for form in formsets["control_total_revisions"].forms] == [["id", "fund"]]


def test_fund_change_form_costs_the_same_queries_for_few_and_many_inline_lines(
    staff_client, django_assert_max_num_queries
):
    fund = FundFactory()
    for _ in range(2):
        AllocationFactory(fund=fund)
    with django_assert_max_num_queries(60) as few:
        staff_client.get(change_url(fund))
    for _ in range(10):
        AllocationFactory(fund=fund)
    with django_assert_max_num_queries(60) as many:
        response = staff_client.get(change_url(fund))
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_allocation_change_form_costs_the_same_queries_for_few_and_many_entries(
    staff_client, django_assert_max_num_queries
):
    allocation = AllocationFactory(amount=Decimal("100.00"))
    with django_assert_max_num_queries(60) as few:
        staff_client.get(change_url(allocation))
    for pence in range(1, 11):
        services.allocation_set_amount(
            allocation=allocation, amount=Decimal(100) + Decimal(pence) / 100, memo="Step", acting_user=None
        )
    with django_assert_max_num_queries(60) as many:
        response = staff_client.get(change_url(allocation))
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_fund_change_form_costs_the_same_queries_for_few_and_many_revisions(
    staff_client, staff_user, django_assert_max_num_queries
):
    fund = FundFactory()
    with django_assert_max_num_queries(60) as few:
        staff_client.get(change_url(fund))
    for pounds in range(1001, 1006):
        fund.control_total = gbp(f"{pounds}.00")
        services.fund_save(fund=fund, memo="Revised letter", acting_user=staff_user)
    with django_assert_max_num_queries(60) as many:
        response = staff_client.get(change_url(fund))
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
